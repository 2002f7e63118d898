package antientropy

import (
	"context"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// Store is the replica anti-entropy reads from and merges into. All methods
// must be safe for concurrent use; *store.Store satisfies it.
type Store interface {
	// Snapshot opens a consistent read-only view; the caller closes it.
	// Its vector must count only writes the view holds or has superseded.
	Snapshot() *store.Snapshot
	// Apply durably merges records from a peer, rejecting bad ones
	// individually in the result rather than failing the call. The caller
	// reuses recs once Apply has returned without error.
	Apply(ctx context.Context, recs []crdt.Record) (store.ApplyResult, error)
	// Join durably raises the replica's vector to cover v.
	Join(ctx context.Context, v crdt.Vector) error
	// Vector returns the replica's current contiguous vector.
	Vector() crdt.Vector
	// Held returns the writes the replica holds beyond gaps in its
	// vector, which a responder need not send again.
	Held() crdt.Held
	// Holes returns keys whose records the replica dropped and wants
	// refilled (see store.DropAfter), at most store.MaxRefill.
	Holes() []store.Hole
	// Refill durably fills the holes asked about from a peer's answer:
	// records for some, and keys it holds nothing for (see store.Refill).
	// It is called only with the answer of a peer whose vector covered
	// the replica's when it asked.
	Refill(ctx context.Context, asked []store.Hole, recs []crdt.Record, absent []store.Key) (store.ApplyResult, error)
}

var _ Store = (*store.Store)(nil)

// Defaults for zero Config fields.
const (
	DefaultMaxBatchRecords = 512
	DefaultMaxBatchBytes   = 256 << 10
	DefaultIdleTimeout     = 30 * time.Second
	DefaultMaxInbound      = 8
)

// Config configures a Service. Zero fields take the defaults above.
type Config struct {
	// Store is the local replica. Required.
	Store Store
	// MaxBatchRecords bounds the records per batch frame sent; at most
	// MaxFrameRecords.
	MaxBatchRecords int
	// MaxBatchBytes is the encoded size at which a batch frame is sent. A
	// single record larger than it still travels, alone.
	MaxBatchBytes int
	// IdleTimeout bounds each frame read and write, both ways.
	IdleTimeout time.Duration
	// MaxInbound bounds the sessions served at once; further requests get a
	// busy error. A peer gets at most two at once.
	MaxInbound int
	// OnApplied, if set, is called with the records of each pulled batch
	// that won their merge. It must not block, and must copy what it keeps:
	// the records' buffers are reused.
	OnApplied func(from peer.ID, recs []crdt.Record)
	// Admit, if set, decides which peers may pull from us; the rest get a
	// refusal. Nil admits every peer that could connect.
	Admit func(peer.ID) bool
	// OnReject, if set, is called for every record a peer sent that the
	// store rejected, and for every malformed frame a peer sent. It must
	// not block.
	OnReject func(peer.ID, error)
	// Logger receives session events; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxBatchRecords <= 0 {
		c.MaxBatchRecords = DefaultMaxBatchRecords
	}
	c.MaxBatchRecords = min(c.MaxBatchRecords, MaxFrameRecords)
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	// Leave room for the count and for the one record that may overshoot.
	c.MaxBatchBytes = min(c.MaxBatchBytes, MaxFrameSize/2)
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxInbound <= 0 {
		c.MaxInbound = DefaultMaxInbound
	}
	if c.OnApplied == nil {
		c.OnApplied = func(peer.ID, []crdt.Record) {}
	}
	if c.Admit == nil {
		c.Admit = func(peer.ID) bool { return true }
	}
	if c.OnReject == nil {
		c.OnReject = func(peer.ID, error) {}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
