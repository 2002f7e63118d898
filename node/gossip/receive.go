package gossip

import (
	"fmt"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// Bounds on received messages: bytes waiting to be merged, and bytes
// merged in one Store.Apply call.
const (
	inboxBytes      = 32 << 20
	applyBatchBytes = 1 << 20
)

// readLoop takes validated messages off the subscription and hands them to
// applyLoop. Our own messages come back through the subscription too, and
// are skipped: their records are already in the store.
func (g *Gossip) readLoop() {
	defer g.wg.Done()
	for {
		msg, err := g.sub.Next(g.ctx)
		if err != nil {
			return
		}
		if msg.GetFrom() == g.self {
			continue
		}
		recs, ok := msg.ValidatorData.([]crdt.Record)
		if !ok {
			// Only the validator delivers remote messages, and it always
			// attaches the records.
			g.log.Error("message delivered without validated records", "from", msg.ReceivedFrom)
			continue
		}
		g.stats.receivedMessages.Add(1)
		g.stats.receivedRecords.Add(uint64(len(recs)))
		if !g.inbox.put(g.ctx, inbound{from: msg.ReceivedFrom, recs: recs, size: len(msg.Data)}) {
			return
		}
	}
}

// applyLoop merges received messages into the store. The messages waiting,
// from every peer, are merged in one Apply, so one commit serves a whole
// backlog and the receiver keeps up with many senders' bursts (a relay
// hears from every device). Duplicates and echoes are harmless: merge is
// idempotent.
func (g *Gossip) applyLoop() {
	defer g.wg.Done()
	var gap gapTimer
	defer gap.stop()
	for {
		select {
		case <-g.inbox.ready:
		case <-gap.C():
			g.cfg.OnGap(gap.fired())
			continue
		case <-g.ctx.Done():
			return
		}
		for g.ctx.Err() == nil {
			msgs := g.inbox.take(applyBatchBytes)
			if len(msgs) == 0 {
				break
			}
			if res, ok := g.apply(msgs); ok {
				// The latest sender is as good a peer as any to pull a
				// gap from.
				gap.observe(res.Gap, msgs[len(msgs)-1].from)
			}
		}
	}
}

// apply merges the records of msgs and reports whether the store took
// them. Failures are logged and the records left to anti-entropy; nothing a
// peer sends stops the loop.
func (g *Gossip) apply(msgs []inbound) (store.ApplyResult, bool) {
	recs := records(msgs)
	res, err := g.cfg.Store.Apply(g.ctx, recs)
	if err != nil {
		if g.ctx.Err() == nil {
			g.log.Error("apply failed", "messages", len(msgs), "records", len(recs), "err", err)
		}
		return res, false
	}
	g.stats.appliedRecords.Add(uint64(len(res.Applied)))
	for _, rj := range res.Rejected {
		g.cfg.OnReject(sender(msgs, rj.Record), fmt.Errorf("gossip apply: %w", rj.Err))
	}
	return res, true
}
