package gossip

import (
	"sync"

	"github.com/syncnode/syncnode/crdt"
)

// queue is the bounded FIFO between writers and the publisher. Writers never
// wait on it: what does not fit is refused. Its storage grows only as far as
// the backlog does, so an idle node holds nothing.
type queue struct {
	limit int
	// ready holds a token whenever records may be waiting; the publisher
	// takes it, then drains until take returns nothing.
	ready chan struct{}

	mu     sync.Mutex
	recs   []crdt.Record
	closed bool
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, ready: make(chan struct{}, 1)}
}

// push appends as many of recs as fit and returns how many it refused: all
// of them once the queue is closed.
func (q *queue) push(recs []crdt.Record) (refused int) {
	q.mu.Lock()
	n := min(len(recs), q.limit-len(q.recs))
	if q.closed {
		n = 0
	}
	q.recs = append(q.recs, recs[:n]...)
	q.mu.Unlock()
	if n > 0 {
		signal(q.ready)
	}
	return len(recs) - n
}

// take removes and returns the oldest records whose batch encodes within
// maxBytes, at most maxRecords of them. The first record is taken whatever
// its size, so a large record still travels, alone.
func (q *queue) take(maxBytes, maxRecords int) []crdt.Record {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, size := 0, batchHeaderSize(min(len(q.recs), maxRecords))
	for n < len(q.recs) && n < maxRecords {
		s := crdt.EncodedSize(q.recs[n])
		if n > 0 && size+s > maxBytes {
			break
		}
		size += s
		n++
	}
	if n == 0 {
		return nil
	}
	batch := make([]crdt.Record, n)
	copy(batch, q.recs)
	// Zero what was taken so the backing array stops pinning its values.
	clear(q.recs[:n])
	q.recs = q.recs[n:]
	if len(q.recs) == 0 {
		q.recs = nil
	}
	return batch
}

// close empties the queue for good and returns how many records it held.
func (q *queue) close() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.recs)
	q.recs, q.closed = nil, true
	return n
}

// len returns the number of queued records.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.recs)
}
