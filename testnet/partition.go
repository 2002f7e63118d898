package testnet

import (
	"context"
	"fmt"
)

// Partition splits the net into the given groups of node indexes. Nodes in
// different groups cannot connect: their connections are closed and new
// dials fail (mocknet unlinks them; TCP refuses them in a connection
// gater). A node listed in no group is isolated on its own. Pairs that
// become reachable again are reconnected. Partition returns once every
// reachable pair is connected and subscribed; stopped nodes follow the
// partition when they restart.
func (n *Net) Partition(ctx context.Context, groups ...[]int) error {
	side := make([]int, n.opts.Nodes)
	for i := range side {
		side[i] = -1
	}
	for g, members := range groups {
		for _, i := range members {
			if i < 0 || i >= n.opts.Nodes {
				return fmt.Errorf("testnet partition: no node %d in a net of %d", i, n.opts.Nodes)
			}
			if side[i] >= 0 {
				return fmt.Errorf("testnet partition: node %d is in two groups", i)
			}
			side[i] = g
		}
	}
	next := len(groups)
	for i := range side {
		if side[i] < 0 {
			side[i] = next
			next++
		}
	}
	return n.repartition(ctx, side)
}

// Heal ends any partition: every pair can connect again, and is connected
// and subscribed when Heal returns.
func (n *Net) Heal(ctx context.Context) error {
	return n.repartition(ctx, make([]int, n.opts.Nodes))
}

// repartition moves every node to its new side, cutting pairs that are now
// apart, then linking and connecting those that are now together.
func (n *Net) repartition(ctx context.Context, side []int) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	old := n.side
	n.side = side
	n.mu.Unlock()

	for i := range side {
		for j := i + 1; j < len(side); j++ {
			was, now := old[i] == old[j], side[i] == side[j]
			switch {
			case was && !now:
				if err := n.fab.unlink(n.ids[i], n.ids[j]); err != nil {
					return err
				}
				if err := n.disconnect(ctx, i, j); err != nil {
					return err
				}
			case !was && now && n.Node(i) != nil && n.Node(j) != nil:
				if err := n.fab.link(n.ids[i], n.ids[j]); err != nil {
					return err
				}
			}
		}
	}
	return n.settle(ctx)
}
