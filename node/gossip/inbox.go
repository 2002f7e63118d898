package gossip

import (
	"context"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// inbound is a validated message from a peer, waiting to be merged.
type inbound struct {
	from peer.ID
	recs []crdt.Record
	size int // encoded bytes
}

// inbox holds validated messages between the read loop and the apply loop.
// It is bounded by bytes, not messages, so that a stall in the store (a
// memtable flush, a slow fsync) is absorbed by thousands of small messages
// rather than overflowing pubsub's subscription buffer, where messages are
// dropped. When full, put waits, and pubsub's buffer takes the strain.
type inbox struct {
	limit int
	ready chan struct{} // holds a token while messages may be waiting
	space chan struct{} // holds a token when take has freed room

	mu    sync.Mutex
	msgs  []inbound
	bytes int
}

func newInbox(limit int) *inbox {
	return &inbox{limit: limit, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// put appends m, waiting while the inbox is full. One message is always
// admitted into an inbox below its limit, so a large message cannot wedge
// it. It reports false if ctx ended first.
func (b *inbox) put(ctx context.Context, m inbound) bool {
	for {
		b.mu.Lock()
		if b.bytes < b.limit {
			b.msgs = append(b.msgs, m)
			b.bytes += m.size
			b.mu.Unlock()
			signal(b.ready)
			return true
		}
		b.mu.Unlock()
		select {
		case <-b.space:
		case <-ctx.Done():
			return false
		}
	}
}

// take removes the oldest messages, from whichever senders, up to maxBytes
// of them (at least one), and returns them in order. It returns none when
// the inbox is empty.
func (b *inbox) take(maxBytes int) []inbound {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, size := 0, 0
	for n < len(b.msgs) && (n == 0 || size+b.msgs[n].size <= maxBytes) {
		size += b.msgs[n].size
		n++
	}
	if n == 0 {
		return nil
	}
	taken := slices.Clone(b.msgs[:n])
	clear(b.msgs[:n])
	b.msgs = b.msgs[n:]
	if len(b.msgs) == 0 {
		b.msgs = nil
	}
	b.bytes -= size
	signal(b.space)
	return taken
}

// records returns the records of msgs, in order.
func records(msgs []inbound) []crdt.Record {
	if len(msgs) == 1 {
		return msgs[0].recs
	}
	n := 0
	for _, m := range msgs {
		n += len(m.recs)
	}
	recs := make([]crdt.Record, 0, n)
	for _, m := range msgs {
		recs = append(recs, m.recs...)
	}
	return recs
}

// sender returns the peer that delivered r among msgs.
func sender(msgs []inbound, r crdt.Record) peer.ID {
	for _, m := range msgs {
		for _, x := range m.recs {
			if x.Version == r.Version && x.NS == r.NS && x.Key == r.Key {
				return m.from
			}
		}
	}
	return msgs[0].from
}

// signal leaves a token in c unless one is already there.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
