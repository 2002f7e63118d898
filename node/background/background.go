// Package background runs a component's goroutines and refuses new ones
// once the component is closing, so that work started by a callback during
// Close (a peer connecting, a record merging) is either waited for or never
// started.
package background

import "sync"

// Group is a set of goroutines that stops as one. The zero value is ready.
type Group struct {
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// Go runs f in a goroutine unless the group is stopping, and reports
// whether it did.
func (g *Group) Go(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
	return true
}

// Stop refuses new goroutines and waits for the running ones.
func (g *Group) Stop() {
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
	g.wg.Wait()
}
