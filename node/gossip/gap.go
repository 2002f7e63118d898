package gossip

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// gapGrace is how long the replica may hold writes beyond a missing seq
// before OnGap is called. Pubsub validates messages in parallel, so a
// sender's batches can land out of order: the later one opens a gap that
// the earlier one closes a moment after. Waiting filters those out, so only
// a gap that persists starts an anti-entropy pull, and a persisting one
// calls OnGap at most once per gapGrace rather than once per message.
const gapGrace = 250 * time.Millisecond

// gapTimer tracks an open gap for the apply loop. It is not safe for
// concurrent use.
type gapTimer struct {
	t    *time.Timer
	from peer.ID // delivered the message after which the gap opened
}

// C fires once a gap has stayed open for gapGrace; it is nil while none is
// open, so selecting on it then blocks forever.
func (w *gapTimer) C() <-chan time.Time {
	if w.t == nil {
		return nil
	}
	return w.t.C
}

// observe records whether the replica has a gap after merging a message
// that from delivered.
func (w *gapTimer) observe(gap bool, from peer.ID) {
	switch {
	case gap && w.t == nil:
		w.t, w.from = time.NewTimer(gapGrace), from
	case !gap:
		w.stop()
	}
}

// fired returns the peer to pull from once C has fired, and re-arms on the
// next gap observed.
func (w *gapTimer) fired() peer.ID {
	w.t = nil
	return w.from
}

func (w *gapTimer) stop() {
	if w.t != nil {
		w.t.Stop()
		w.t = nil
	}
}
