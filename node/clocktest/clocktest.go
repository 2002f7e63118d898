// Package clocktest gives tests a wall clock that moves only when told to,
// for code that takes a now func() time.Time.
package clocktest

import (
	"sync"
	"time"
)

// Manual is a clock that stands still until Advance. It is safe for
// concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock reading t.
func New(t time.Time) *Manual { return &Manual{t: t} }

// Now returns the clock's reading.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
