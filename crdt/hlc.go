package crdt

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Timestamp is a hybrid logical clock reading: the upper 48 bits hold Unix
// milliseconds, the lower 16 bits a logical counter that orders events
// within one millisecond.
type Timestamp uint64

const logicalBits = 16

// MaxLogical is the largest logical counter a Timestamp can carry.
const MaxLogical = 1<<logicalBits - 1

// DefaultMaxSkew is how far ahead of local wall time a remote stamp may be
// before it is rejected.
const DefaultMaxSkew = 5 * time.Minute

// ErrClockSkew is returned (wrapped in a *SkewError) when a remote stamp lies
// further ahead of local wall time than the clock's maximum skew.
var ErrClockSkew = errors.New("remote clock too far ahead")

// SkewError describes a rejected remote stamp.
type SkewError struct {
	Remote  Timestamp
	WallMS  int64
	MaxSkew time.Duration
}

func (e *SkewError) Error() string {
	ahead := time.Duration(e.Remote.WallMS()-e.WallMS) * time.Millisecond
	return fmt.Sprintf("%v: %v ahead, max %v", ErrClockSkew, ahead, e.MaxSkew)
}

// Unwrap makes errors.Is(err, ErrClockSkew) hold.
func (e *SkewError) Unwrap() error { return ErrClockSkew }

// NewTimestamp packs wall milliseconds and a logical counter.
func NewTimestamp(wallMS int64, logical uint16) Timestamp {
	return Timestamp(uint64(wallMS)<<logicalBits | uint64(logical))
}

// WallMS returns the Unix milliseconds part.
func (t Timestamp) WallMS() int64 { return int64(t >> logicalBits) }

// Logical returns the logical counter part.
func (t Timestamp) Logical() uint16 { return uint16(t & MaxLogical) }

// String renders the stamp as the decimal uint64 used by the HTTP API.
func (t Timestamp) String() string { return strconv.FormatUint(uint64(t), 10) }

// ParseTimestamp parses the decimal form produced by String.
func ParseTimestamp(s string) (Timestamp, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse hlc %q: %w", s, err)
	}
	return Timestamp(v), nil
}

// PhysicalClock returns the current wall time in Unix milliseconds.
type PhysicalClock func() int64

// WallClock is the production PhysicalClock.
func WallClock() int64 { return time.Now().UnixMilli() }

// Clock is a hybrid logical clock (Kulkarni et al., 2014). Its readings never
// go backwards, even when the physical clock does. It is safe for concurrent
// use.
type Clock struct {
	physical PhysicalClock
	maxSkew  time.Duration

	mu   sync.Mutex
	last Timestamp
}

// NewClock returns a clock over physical. A zero maxSkew means
// DefaultMaxSkew. highWater is the greatest stamp issued or accepted before a
// restart; every later reading is above it.
func NewClock(physical PhysicalClock, maxSkew time.Duration, highWater Timestamp) *Clock {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	return &Clock{physical: physical, maxSkew: maxSkew, last: highWater}
}

// MaxSkew reports how far ahead a remote stamp may be.
func (c *Clock) MaxSkew() time.Duration { return c.maxSkew }

// Now returns a stamp greater than every stamp this clock has issued or
// accepted.
func (c *Clock) Now() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = next(c.last, c.physical())
	return c.last
}

// Check reports whether remote is acceptable without changing the clock.
func (c *Clock) Check(remote Timestamp) error {
	return checkSkew(remote, c.physical(), c.maxSkew)
}

// Update folds an accepted remote stamp into the clock so that later readings
// exceed it. A stamp beyond the maximum skew is rejected with a *SkewError
// and leaves the clock unchanged.
func (c *Clock) Update(remote Timestamp) error {
	wall := c.physical()
	if err := checkSkew(remote, wall, c.maxSkew); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if remote > c.last {
		c.last = remote
	}
	return nil
}

// Last returns the high-water mark: the greatest stamp issued or accepted.
// Persist it so that a restart with a clock that stepped back stays monotonic.
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func checkSkew(remote Timestamp, wallMS int64, maxSkew time.Duration) error {
	if remote.WallMS()-wallMS > maxSkew.Milliseconds() {
		return &SkewError{Remote: remote, WallMS: wallMS, MaxSkew: maxSkew}
	}
	return nil
}

// next returns the reading that follows last at physical time wallMS.
func next(last Timestamp, wallMS int64) Timestamp {
	if wallMS > last.WallMS() {
		return NewTimestamp(wallMS, 0)
	}
	// An exhausted logical counter carries into the millisecond part, so
	// last+1 stays monotonic without a special case.
	return last + 1
}
