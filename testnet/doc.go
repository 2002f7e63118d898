// Package testnet runs N real syncnode nodes in one process, injects faults,
// checks that the replicas converge and reports what convergence cost. It
// drives the node package that ships and never reimplements any of its
// paths: writes go through node.Put, sync through the nodes' own gossip and
// anti-entropy.
//
// A Net is N nodes of one group, over libp2p's mock network (deterministic
// link cuts and latency, no sockets) or real loopback TCP in the group's
// private network:
//
//	n, err := testnet.New(ctx, testnet.Options{Nodes: 4, Transport: testnet.Mocknet})
//	defer n.Close()
//	n.Partition(ctx, []int{0, 1}, []int{2, 3}) // cut the net in two
//	n.Node(0).Put(ctx, "ns", "key", []byte(`1`))
//	n.Heal(ctx)                                // and join it again
//	took, err := n.WaitConverged(ctx)
//
// Faults: Partition and Heal cut and restore connectivity between groups
// of nodes; Stop and Restart take a node down and bring it back with its
// identity and its store; Options.DropRate and SetDropRate make receivers
// ignore gossip messages at random, which only anti-entropy can repair;
// Options.Latency delays mocknet links. Converged compares every running
// replica, digest first and then record by record; WaitConverged polls it.
//
// Scenarios (ScenarioNames, Lookup, Run) are named workloads built on a Net
// that return a Report: the time to converge after the last write, heal or
// restart; gossip messages and bytes per write; records carried by
// anti-entropy. `syncnode testnet` runs them from the command line.
package testnet
