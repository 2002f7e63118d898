package antientropy

import (
	"bytes"
	"context"

	"github.com/syncnode/syncnode/crdt"
)

// Read-ahead bounds: the initiator decodes up to readAhead frames while
// the store commits, and merges every batch that has arrived, up to
// maxMergeBytes of values, in one Apply. A large pull then commits, and
// fsyncs, megabytes at a time instead of one frame at a time, and reading
// the stream overlaps with the store's work. Memory stays bounded by
// readAhead frames.
const (
	readAhead     = 16
	maxMergeBytes = 4 << 20
)

// inFrame is one frame read ahead: a batch already decoded, or any other
// frame with its payload copied, or the error that ended reading.
type inFrame struct {
	t       frameType
	recs    []crdt.Record
	frames  int // batch frames merged into recs
	payload []byte
	err     error
}

// readAheadFrames reads and decodes frames from c on its own goroutine
// until a frame other than a batch, an error, or ctx's end. The channel is
// closed when it stops; wait blocks until then, after which c may be used
// again.
func readAheadFrames(ctx context.Context, c *conn) (frames <-chan inFrame, wait func()) {
	ch := make(chan inFrame, readAhead)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for {
			var f inFrame
			f.t, f.payload, f.err = c.read()
			if f.err == nil && f.t == frameBatch {
				f.recs, f.err = decodeBatch(f.payload, nil)
				f.payload, f.frames = nil, 1
			} else {
				f.payload = bytes.Clone(f.payload) // c reuses its buffer
			}
			select {
			case ch <- f:
			case <-ctx.Done():
				return
			}
			if f.err != nil || f.t != frameBatch {
				return
			}
		}
	}()
	return ch, func() { <-done }
}

// batches hands out the read-ahead frames, merging consecutive batches.
type batches struct {
	frames  <-chan inFrame
	pending *inFrame // a frame taken while merging, handed out next
}

// next returns the next frame; for a batch, it appends every batch already
// waiting, up to maxMergeBytes. ok is false once the reader has stopped
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
	size := valueBytes(f.recs)
	for f.err == nil && f.t == frameBatch && size < maxMergeBytes {
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
			size += valueBytes(g.recs)
		default:
			return f, true
		}
	}
	return f, true
}

func valueBytes(recs []crdt.Record) int {
	n := 0
	for _, r := range recs {
		n += len(r.Value)
	}
	return n
}
