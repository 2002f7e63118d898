package antientropy

import (
	"bytes"
	"context"

	"golang.org/x/sync/semaphore"

	"github.com/syncnode/syncnode/crdt"
)

// Read-ahead bounds: the initiator decodes frames, up to maxAheadBytes of
// them as sent, while the store commits, and merges every batch that has
// arrived, up to maxMergeBytes as sent, in one Apply. A large pull then
// commits, and fsyncs, megabytes at a time instead of one frame at a time,
// and reading the stream overlaps with the store's work. The budget counts
// frames as sent, not values, so a responder's many small records cannot
// make a pull hold more: memory stays bounded by maxAheadBytes (a frame
// is at most MaxFrameSize, which fits).
const (
	maxAheadBytes = 8 << 20
	maxMergeBytes = 4 << 20
	readAhead     = 64 // frames; the byte budget binds first
)

// inFrame is one frame read ahead: a batch or refill already decoded, or
// any other frame with its payload copied, or the error that ended
// reading.
type inFrame struct {
	t       frameType
	recs    []crdt.Record
	frames  int   // batch frames merged into recs
	size    int64 // their payload bytes, held against the read-ahead budget
	payload []byte
	err     error
}

// readAheadFrames reads and decodes frames from c on its own goroutine
// until a frame other than a batch, a refill or an absent frame, an error,
// or ctx's end. The channel is closed when it stops. Each of those three
// frames holds its size against the budget until release is called with
// it, once consumed. wait blocks until the reader has stopped, after which
// c may be used again.
func readAheadFrames(ctx context.Context, c *conn) (frames <-chan inFrame, release func(int64), wait func()) {
	ch := make(chan inFrame, readAhead)
	budget := semaphore.NewWeighted(maxAheadBytes)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for {
			var f inFrame
			f.t, f.payload, f.err = c.read()
			records := f.t == frameBatch || f.t == frameRefill
			if f.err == nil && (records || f.t == frameAbsent) {
				f.size = min(int64(len(f.payload)), maxAheadBytes)
				if budget.Acquire(ctx, f.size) != nil {
					return
				}
			}
			switch {
			case f.err == nil && records:
				f.recs, f.err = decodeBatch(f.payload, nil)
				f.payload, f.frames = nil, 1
			default:
				f.payload = bytes.Clone(f.payload) // c reuses its buffer
			}
			select {
			case ch <- f:
			case <-ctx.Done():
				return
			}
			if f.err != nil || !(records || f.t == frameAbsent) {
				return
			}
		}
	}()
	return ch, func(n int64) { budget.Release(n) }, func() { <-done }
}

// batches hands out the read-ahead frames, merging consecutive batches.
type batches struct {
	frames  <-chan inFrame
	pending *inFrame // a frame taken while merging, handed out next
}

// next returns the next frame; for a batch, it appends every batch already
// waiting, up to maxMergeBytes as sent. ok is false once the reader has stopped
// without a final frame (its context ended).
func (b *batches) next(ctx context.Context) (f inFrame, ok bool) {
	if b.pending != nil {
		f, b.pending = *b.pending, nil
	} else {
		select {
		case f, ok = <-b.frames:
			if !ok {
				return f, false
			}
		case <-ctx.Done():
			return f, false
		}
	}
	for f.err == nil && f.t == frameBatch && f.size < maxMergeBytes {
		select {
		case g, open := <-b.frames:
			if !open {
				return f, true
			}
			if g.err != nil || g.t != frameBatch {
				b.pending = &g
				return f, true
			}
			f.recs = append(f.recs, g.recs...)
			f.frames++
			f.size += g.size
		default:
			return f, true
		}
	}
	return f, true
}
