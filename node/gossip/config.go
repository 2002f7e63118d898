package gossip

import (
	"context"
	"errors"
	"log/slog"
	"net"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// Store is the replica gossip merges into. All methods must be safe for
// concurrent use; *store.Store satisfies it.
type Store interface {
	// Apply durably merges records from a peer and returns once they are
	// committed. Bad records are rejected individually in the result rather
	// than failing the call; an error means nothing more can be applied
	// (for example the store is closed).
	Apply(ctx context.Context, recs []crdt.Record) (store.ApplyResult, error)
	// Clock is the replica's hybrid logical clock; received stamps are
	// checked against it before they are accepted.
	Clock() *crdt.Clock
}

var _ Store = (*store.Store)(nil)

// MaxRPCBytes is the largest RPC the pubsub transport reads: a hostile
// member's message of up to this size is rejected by the validator and
// counted; a larger one resets the stream unread. It bounds what one peer's
// stream may make a node allocate at once.
const MaxRPCBytes = 16 << 20

// Defaults for zero Config fields.
const (
	DefaultMaxMessageBytes = 2 << 20
	DefaultMaxBatchBytes   = 256 << 10
	DefaultQueueLen        = 1 << 16
)

// Config configures a Gossip. Zero fields take the defaults above.
type Config struct {
	// Topic is the group's GossipSub topic. Required.
	Topic string
	// Store is the local replica. Required.
	Store Store
	// MaxMessageBytes is the largest message accepted; larger ones are
	// rejected and their sender penalised. It must hold the largest record
	// (a little over crdt.MaxValueSize); a batch that cannot fit is not
	// sent. The pubsub transport reads RPCs of up to MaxRPCBytes (or twice
	// this, if more), so that an oversized message reaches the validator,
	// which counts it and penalises its sender, instead of only resetting
	// the stream.
	MaxMessageBytes int
	// MaxBatchBytes is the encoded size up to which the publisher packs
	// queued records into one message. A single record larger than it still
	// travels, alone. At most MaxMessageBytes/2.
	MaxBatchBytes int
	// QueueLen bounds the records waiting to be published. Publish drops
	// records beyond it and counts them in Stats.Dropped.
	QueueLen int
	// ScoreWhitelist exempts these networks from the same-IP penalty of
	// peer scoring; in-process tests put every peer on one address.
	ScoreWhitelist []*net.IPNet
	// Admit, if set, decides whose messages are accepted: a relay takes
	// gossip only from paired devices. Nil admits every peer.
	Admit func(from peer.ID) bool
	// Check, if set, vets each record beyond its validity: a message holding
	// a record it refuses (by a revoked device, a plaintext value where
	// values are sealed, a forged signature) is rejected, so it is neither
	// merged nor forwarded. publisher is the message's author, as an
	// origin, whose signature over the whole message GossipSub has checked
	// (StrictSign). Nil accepts every valid record. Check is the only
	// vetting: Store merges what passed it as it is.
	Check func(r crdt.Record, publisher crdt.NodeID) error
	// OnGap, if set, is called when the replica has held some origin's
	// writes beyond a missing seq for a moment (250 ms), so an
	// anti-entropy pull is due, with the peer that delivered the message
	// after which the gap opened. While the gap persists it is called again
	// at most once per 250 ms, as messages keep arriving. It must not block.
	OnGap func(from peer.ID)
	// OnJoin, if set, is called when a peer subscribes to the topic. A
	// write published before the publisher knew of the peer reached it by
	// no gossip, so the node pulls from a newcomer then. It must not block.
	OnJoin func(p peer.ID)
	// OnReject, if set, is called for every message the validator rejects,
	// with the peer that delivered it (the one GossipSub penalises), and for
	// every record the store rejects. err wraps crdt.ErrCorrupt,
	// crdt.ErrInvalid or crdt.ErrClockSkew. Validation runs on several
	// goroutines, so it may be called concurrently; it must not block.
	OnReject func(from peer.ID, err error)
	// Hub keeps every subscribed peer in this node's mesh, not GossipSub's
	// usual dozen: a relay is the one peer that every device reaches, so a
	// write must go from it to all of them in one hop, not trickle through
	// gossip rounds. Devices leave it off.
	Hub bool
	// Relay, if set, is the hub this device pairs with. The device scores
	// it above every other peer, so that when its mesh is full it prunes
	// another device, never the one peer that passes on every write.
	Relay peer.ID
	// Logger receives gossip events; nil means slog.Default().
	Logger *slog.Logger
	// Options are extra GossipSub options, applied after this package's own
	// (so WithPeerScoreInspect may follow WithPeerScore). For tests.
	Options []pubsub.Option
}

func (c Config) withDefaults() (Config, error) {
	if c.Topic == "" || c.Store == nil {
		return c, errors.New("gossip: topic and store are required")
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	c.MaxBatchBytes = min(c.MaxBatchBytes, c.MaxMessageBytes/2)
	if c.QueueLen <= 0 {
		c.QueueLen = DefaultQueueLen
	}
	if c.Admit == nil {
		c.Admit = func(peer.ID) bool { return true }
	}
	if c.Check == nil {
		c.Check = func(crdt.Record, crdt.NodeID) error { return nil }
	}
	if c.OnGap == nil {
		c.OnGap = func(peer.ID) {}
	}
	if c.OnJoin == nil {
		c.OnJoin = func(peer.ID) {}
	}
	if c.OnReject == nil {
		c.OnReject = func(peer.ID, error) {}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
