package store

import (
	"sync"
	"sync/atomic"
)

// readGate admits reads and open snapshots until the store closes, and lets
// Close wait for those already admitted: Badger must not close under a live
// transaction or iterator. A read that starts during Close is refused rather
// than waited for, so a snapshot callback that reads the store cannot
// deadlock against Close. Admission is one atomic add, so concurrent reads
// do not serialise on it.
type readGate struct {
	state    atomic.Int64  // gateClosed flag plus the number of admitted readers
	idle     chan struct{} // closed once the gate is closed and empty
	idleOnce sync.Once
}

const gateClosed = 1 << 62

func newReadGate() *readGate { return &readGate{idle: make(chan struct{})} }

// enter admits one reader; it reports false once the gate is closed.
func (g *readGate) enter() bool {
	if g.state.Add(1)&gateClosed != 0 {
		g.leave()
		return false
	}
	return true
}

// leave ends a reader admitted by enter.
func (g *readGate) leave() {
	if g.state.Add(-1) == gateClosed {
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// close refuses new readers and waits for the admitted ones to leave. It
// must be called once.
func (g *readGate) close() {
	if g.state.Add(gateClosed) == gateClosed {
		g.idleOnce.Do(func() { close(g.idle) })
	}
	<-g.idle
}
