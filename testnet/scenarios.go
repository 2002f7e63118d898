package testnet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

const (
	// conflictKeys is the size of the key set every node fights over in
	// Conflict.
	conflictKeys = 4
	// dropRate is the gossip loss Drop applies when the net has none.
	dropRate = 0.3
	// burstInflight is how many single writes Burst keeps outstanding on
	// its node, as that many concurrent API clients would.
	burstInflight = 32
)

// errNotPartitioned is returned when replicas agreed across a partition
// that should have kept them apart.
var errNotPartitioned = errors.New("replicas converged across the partition")

// Steady writes random keys on randomly chosen nodes, all nodes writing at
// once.
func Steady(ctx context.Context, n *Net, p Params) (Report, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Report{}, err
	}
	plan := newPlanner(p).spread(all(n.Len()), p.Writes, p.Writes)
	return measure(ctx, n, "steady", p, func(ctx context.Context, w *writer) (time.Time, error) {
		err := w.run(ctx, plan, cmp.Or(p.Inflight, 1))
		return time.Now(), err
	})
}

// Conflict has every node write the same few keys at once, so most writes
// conflict and last-writer-wins must pick the same winner everywhere.
func Conflict(ctx context.Context, n *Net, p Params) (Report, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Report{}, err
	}
	plan := newPlanner(p).spread(all(n.Len()), p.Writes, conflictKeys)
	for i := range plan {
		plan[i].node = i % n.Len() // every node takes an equal share
	}
	return measure(ctx, n, "conflict", p, func(ctx context.Context, w *writer) (time.Time, error) {
		err := w.run(ctx, plan, cmp.Or(p.Inflight, 1))
		return time.Now(), err
	})
}

// PartitionHeal splits the net into two halves, writes on both sides to an
// overlapping key space, checks that the halves did not converge, then
// heals. Convergence is timed from the heal.
func PartitionHeal(ctx context.Context, n *Net, p Params) (Report, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Report{}, err
	}
	if n.Len() < 2 {
		return Report{}, fmt.Errorf("testnet partition: needs at least 2 nodes, have %d", n.Len())
	}
	left, right := all(n.Len())[:n.Len()/2], all(n.Len())[n.Len()/2:]
	pl := newPlanner(p)
	keys := max(p.Writes/2, 1)
	plan := append(pl.spread(left, p.Writes/2, keys), pl.spread(right, p.Writes-p.Writes/2, keys)...)
	return measure(ctx, n, "partition", p, func(ctx context.Context, w *writer) (time.Time, error) {
		if err := n.Partition(ctx, left, right); err != nil {
			return time.Time{}, err
		}
		if err := w.run(ctx, plan, cmp.Or(p.Inflight, 1)); err != nil {
			return time.Time{}, err
		}
		if ok, _ := n.Converged(ctx); ok {
			return time.Time{}, errNotPartitioned
		}
		healed := time.Now()
		return healed, n.Heal(ctx)
	})
}

// StopRestart stops the last node, writes a backlog on the others, then
// restarts it. Convergence is timed from the restart, so it includes the
// node's start-up and its anti-entropy catch-up.
func StopRestart(ctx context.Context, n *Net, p Params) (Report, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Report{}, err
	}
	if n.Len() < 2 {
		return Report{}, fmt.Errorf("testnet restart: needs at least 2 nodes, have %d", n.Len())
	}
	victim := n.Len() - 1
	plan := newPlanner(p).spread(all(victim), p.Writes, p.Writes)
	return measure(ctx, n, "restart", p, func(ctx context.Context, w *writer) (time.Time, error) {
		if err := n.Stop(victim); err != nil {
			return time.Time{}, err
		}
		if err := w.run(ctx, plan, cmp.Or(p.Inflight, 1)); err != nil {
			return time.Time{}, err
		}
		restarted := time.Now()
		return restarted, n.Restart(ctx, victim)
	})
}

// Drop writes like Steady while receivers ignore gossip messages at random:
// 30% of them unless the net already drops some. Anti-entropy must repair
// every loss, prompted by gaps in later messages or, for the last ones, by
// its timer.
func Drop(ctx context.Context, n *Net, p Params) (Report, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Report{}, err
	}
	plan := newPlanner(p).spread(all(n.Len()), p.Writes, p.Writes)
	prev := n.drops.currentRate()
	if prev == 0 {
		n.drops.setRate(dropRate)
		defer n.drops.setRate(prev)
	}
	return measure(ctx, n, "drop", p, func(ctx context.Context, w *writer) (time.Time, error) {
		err := w.run(ctx, plan, cmp.Or(p.Inflight, 1))
		return time.Now(), err
	})
}

// Burst makes Writes single writes on node 0, each its own node.Put with
// up to 32 outstanding (Params.Inflight), and times them until every node
// holds them all.
func Burst(ctx context.Context, n *Net, p Params) (Report, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Report{}, err
	}
	pl := newPlanner(p)
	plan := make([]write, p.Writes)
	for i := range plan {
		plan[i] = write{node: 0, key: Key(i), value: pl.value()}
	}
	return measure(ctx, n, "burst", p, func(ctx context.Context, w *writer) (time.Time, error) {
		err := w.run(ctx, plan, cmp.Or(p.Inflight, burstInflight))
		return time.Now(), err
	})
}

// all returns the node indexes 0 to count-1.
func all(count int) []int {
	out := make([]int, count)
	for i := range out {
		out[i] = i
	}
	return out
}
