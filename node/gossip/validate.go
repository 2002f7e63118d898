package gossip

import (
	"context"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// validate is the topic validator. It rejects, so that GossipSub neither
// delivers nor forwards the message and penalises from, anything oversized,
// undecodable, holding an invalid record, or stamped too far ahead of our
// clock. An accepted message carries its decoded records in ValidatorData
// to the receive loop, which therefore never decodes twice.
func (g *Gossip) validate(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == g.self {
		// Our own publication: records we committed ourselves.
		return pubsub.ValidationAccept
	}
	if !g.cfg.Admit(from) {
		// Not a peer we sync with: drop without penalty, it may pair yet.
		g.stats.rejectedMessages.Add(1)
		return pubsub.ValidationIgnore
	}
	// The author, encoded once per message: base58 is not free.
	recs, err := g.check(msg.Data, crdt.NodeID(msg.GetFrom().String()))
	if err != nil {
		g.stats.rejectedMessages.Add(1)
		g.log.Debug("rejected message", "from", from, "bytes", len(msg.Data), "err", err)
		g.cfg.OnReject(from, err)
		return pubsub.ValidationReject
	}
	msg.ValidatorData = recs
	return pubsub.ValidationAccept
}

// check decodes and vets one message.
func (g *Gossip) check(data []byte, publisher crdt.NodeID) ([]crdt.Record, error) {
	if len(data) > g.cfg.MaxMessageBytes {
		return nil, fmt.Errorf("gossip validate: %w: %d bytes, max %d", ErrTooLarge, len(data), g.cfg.MaxMessageBytes)
	}
	recs, err := DecodeBatch(data, MaxBatchRecords)
	if err != nil {
		return nil, fmt.Errorf("gossip validate: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("gossip validate: %w", ErrEmptyBatch)
	}
	clock := g.cfg.Store.Clock()
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("gossip validate: record %d: %w", i, err)
		}
		if err := clock.Check(r.Version.HLC); err != nil {
			return nil, fmt.Errorf("gossip validate: record %d: %w", i, err)
		}
		if err := g.cfg.Check(r, publisher); err != nil {
			return nil, fmt.Errorf("gossip validate: record %d: %w", i, err)
		}
	}
	return recs, nil
}
