package node

import "sync"

// background runs the node's goroutines and refuses new ones once the node
// is closing, so a peer that connects during Close cannot start work that
// Close would not wait for.
type background struct {
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// spawn runs f in a goroutine unless the node is closing, and reports
// whether it did.
func (b *background) spawn(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
	return true
}

// stop refuses new goroutines and waits for the running ones.
func (b *background) stop() {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	b.wg.Wait()
}
