package testnet

import (
	"fmt"
	"log/slog"
	"time"
)

// Transport selects the network the nodes of a Net talk over.
type Transport string

// Transports.
const (
	// Mocknet is libp2p's in-process mock network: no sockets, links that
	// can be cut and delayed deterministically.
	Mocknet Transport = "mocknet"
	// TCP is real libp2p over loopback TCP, inside the group's private
	// network, exactly as `syncnode run` builds its host.
	TCP Transport = "tcp"
)

// Transports lists every Transport, in the order the CLI documents them.
var Transports = []Transport{Mocknet, TCP}

// ParseTransport parses a Transport name.
func ParseTransport(s string) (Transport, error) {
	for _, t := range Transports {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("testnet: unknown transport %q (want mocknet or tcp)", s)
}

// DefaultSyncInterval is the anti-entropy period of testnet nodes. It is far
// shorter than node.DefaultSyncInterval so that a gossip message lost at the
// tail of a workload, which no later message reveals as a gap, is repaired
// in seconds. Set Options.SyncInterval to node.DefaultSyncInterval to
// measure what a device does by default.
const DefaultSyncInterval = 2 * time.Second

// Options configure New. Zero fields take the documented defaults.
type Options struct {
	// Nodes is the number of nodes; at least 1. Zero means 4.
	Nodes int
	// Transport is Mocknet (the default) or TCP.
	Transport Transport
	// Seed derives the nodes' identity keys and the gossip drop decisions,
	// so a run with the same seed has the same peer IDs and, for the same
	// sequence of messages, drops the same ones.
	Seed int64
	// Latency delays every write on every link. Mocknet only.
	Latency time.Duration
	// SyncInterval is each node's mean anti-entropy period: zero means
	// DefaultSyncInterval, negative turns the timer off.
	SyncInterval time.Duration
	// DropRate is the probability, from 0 to 1, that a node ignores a gossip
	// message delivered by a peer. SetDropRate changes it later.
	DropRate float64
	// Dir holds the nodes' stores, one subdirectory each, so that a stopped
	// node restarts with its data. Empty means a fresh temporary directory
	// that Close removes; a given Dir is left in place.
	Dir string
	// InMemory keeps the stores in memory instead: faster, but a stopped
	// node cannot be restarted.
	InMemory bool
	// Logger receives every node's logs; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Nodes == 0 {
		o.Nodes = 4
	}
	if o.Nodes < 1 {
		return o, fmt.Errorf("testnet: %d nodes: want at least 1", o.Nodes)
	}
	if o.Transport == "" {
		o.Transport = Mocknet
	}
	if _, err := ParseTransport(string(o.Transport)); err != nil {
		return o, err
	}
	if o.Latency < 0 || o.Latency > 0 && o.Transport != Mocknet {
		return o, fmt.Errorf("testnet: latency %s: only mocknet links can be delayed", o.Latency)
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.DropRate < 0 || o.DropRate > 1 {
		return o, fmt.Errorf("testnet: drop rate %g: want 0 to 1", o.DropRate)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
