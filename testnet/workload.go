package testnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Namespace is where scenarios write.
const Namespace = "testnet"

// write is one planned Put.
type write struct {
	node  int
	key   string
	value []byte
}

// planner draws a scenario's writes from its seed, so the same Params give
// the same keys, values and writers.
type planner struct {
	rng       *rand.Rand
	valueSize int
}

func newPlanner(p Params) *planner {
	return &planner{rng: rand.New(rand.NewPCG(uint64(p.Seed), 0x77726974)), valueSize: p.ValueSize}
}

// spread plans count writes, each on a random node of nodes, to a random
// key of a space of keys.
func (pl *planner) spread(nodes []int, count, keys int) []write {
	out := make([]write, count)
	for i := range out {
		out[i] = write{
			node:  nodes[pl.rng.IntN(len(nodes))],
			key:   Key(pl.rng.IntN(max(keys, 1))),
			value: pl.value(),
		}
	}
	return out
}

// value returns a JSON string of exactly valueSize bytes.
func (pl *planner) value() []byte {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	v := make([]byte, max(pl.valueSize, 2))
	v[0], v[len(v)-1] = '"', '"'
	for i := 1; i < len(v)-1; i++ {
		v[i] = letters[pl.rng.IntN(len(letters))]
	}
	return v
}

// Key returns the i-th key of the scenarios' key space.
func Key(i int) string { return fmt.Sprintf("k%07d", i) }

// writer runs planned writes through node.Put, the path the local API
// takes, and remembers when the first began.
type writer struct {
	net   *Net
	start time.Time
	done  int
}

// run performs plan: every node's writes in plan order, all nodes at once,
// each node with up to inflight writes outstanding (1 means one after the
// other).
func (w *writer) run(ctx context.Context, plan []write, inflight int) error {
	byNode := map[int][]write{}
	for _, op := range plan {
		byNode[op.node] = append(byNode[op.node], op)
	}
	if w.start.IsZero() {
		w.start = time.Now()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, ops := range byNode {
		nd := w.net.Node(i)
		if nd == nil {
			return fmt.Errorf("write on node %d: %w", i, ErrStopped)
		}
		var next atomic.Int64
		for range max(inflight, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					k := int(next.Add(1) - 1)
					if k >= len(ops) {
						return
					}
					if _, err := nd.Put(ctx, Namespace, ops[k].key, ops[k].value); err != nil {
						cancel(fmt.Errorf("put on node %d: %w", i, err))
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	w.done += len(plan)
	return nil
}
