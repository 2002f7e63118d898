package crdt_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

// manualClock is a PhysicalClock the test sets by hand.
type manualClock struct{ ms int64 }

func (m *manualClock) now() int64 { return m.ms }

const testEpochMS = int64(1_700_000_000_000)

func ts(wallMS int64, logical uint16) crdt.Timestamp { return crdt.NewTimestamp(wallMS, logical) }

func TestTimestampPacking(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w1 := rapid.Int64Range(0, 1<<48-1).Draw(t, "w1")
		l1 := rapid.Uint16().Draw(t, "l1")
		w2 := rapid.Int64Range(0, 1<<48-1).Draw(t, "w2")
		l2 := rapid.Uint16().Draw(t, "l2")
		a, b := ts(w1, l1), ts(w2, l2)
		if a.WallMS() != w1 || a.Logical() != l1 {
			t.Fatalf("NewTimestamp(%d, %d) unpacks to (%d, %d)", w1, l1, a.WallMS(), a.Logical())
		}
		if lexLess := w1 < w2 || w1 == w2 && l1 < l2; (a < b) != lexLess {
			t.Fatalf("uint64 order of %v, %v disagrees with (wall, logical) order", a, b)
		}
		got, err := crdt.ParseTimestamp(a.String())
		if err != nil || got != a {
			t.Fatalf("ParseTimestamp(%q) = %v, %v; want %v", a.String(), got, err, a)
		}
	})
}

func TestParseTimestampRejectsGarbage(t *testing.T) {
	for _, s := range []string{"", "abc", "-1", "1.5", "18446744073709551616"} {
		if _, err := crdt.ParseTimestamp(s); err == nil {
			t.Errorf("ParseTimestamp(%q) succeeded", s)
		}
	}
}

// TestClockEventHistory follows CockroachDB's TestHLCClock: a script of
// wall-time settings and clock events, with the clock reading expected after
// each.
func TestClockEventHistory(t *testing.T) {
	const skew = time.Minute
	skewMS := skew.Milliseconds()
	w := testEpochMS

	type kind int
	const (
		setWall kind = iota // move the physical clock to wall
		now                 // Now() must return want
		update              // Update(input); then Last() must be want
		check               // Check(input); then Last() must be want
	)
	type event struct {
		kind    kind
		wall    int64
		input   crdt.Timestamp
		want    crdt.Timestamp
		wantErr error
	}
	history := []event{
		{kind: setWall, wall: w},
		{kind: now, want: ts(w, 0)},
		{kind: now, want: ts(w, 1)}, // same millisecond: the logical counter ticks
		{kind: setWall, wall: w + 5},
		{kind: now, want: ts(w+5, 0)},                         // wall time moved on: counter resets
		{kind: setWall, wall: w + 2},                          // our clock mysteriously jumps back
		{kind: now, want: ts(w+5, 1)},                         // ... and the reading does not
		{kind: update, input: ts(w+3, 9), want: ts(w+5, 1)},   // remote behind us: no change
		{kind: update, input: ts(w+10, 4), want: ts(w+10, 4)}, // remote ahead within skew: adopted
		{kind: now, want: ts(w+10, 5)},                        // physical still behind: tick past it
		{kind: setWall, wall: w + 10},
		{kind: now, want: ts(w+10, 6)},
		{kind: update, input: ts(w+10+skewMS+1, 0), want: ts(w+10, 6), wantErr: crdt.ErrClockSkew}, // 1 ms past max skew: rejected, clock untouched
		{kind: check, input: ts(w+10+skewMS+1, 0), want: ts(w+10, 6), wantErr: crdt.ErrClockSkew},
		{kind: check, input: ts(w+10+skewMS, 0), want: ts(w+10, 6)},         // Check never moves the clock
		{kind: update, input: ts(w+10+skewMS, 7), want: ts(w+10+skewMS, 7)}, // exactly at max skew: accepted
		{kind: now, want: ts(w+10+skewMS, 8)},                               // next reading exceeds the remote
		{kind: update, input: ts(w+10+skewMS, crdt.MaxLogical-1), want: ts(w+10+skewMS, crdt.MaxLogical-1)},
		{kind: now, want: ts(w+10+skewMS, crdt.MaxLogical)},
		{kind: now, want: ts(w+11+skewMS, 0)}, // logical counter exhausted: borrow the next millisecond
		{kind: now, want: ts(w+11+skewMS, 1)},
		{kind: setWall, wall: w + 11 + skewMS},
		{kind: now, want: ts(w+11+skewMS, 2)}, // wall time catches up with the borrowed millisecond
		{kind: setWall, wall: w + 2*skewMS},
		{kind: now, want: ts(w+2*skewMS, 0)},
		{kind: update, input: ts(w+2*skewMS, crdt.MaxLogical), want: ts(w+2*skewMS, crdt.MaxLogical)},
		{kind: now, want: ts(w+2*skewMS+1, 0)}, // accepted remote with a full counter: borrow too
		{kind: update, input: 0, want: ts(w+2*skewMS+1, 0)},
		{kind: setWall, wall: 0}, // physical clock reset to the epoch
		{kind: now, want: ts(w+2*skewMS+1, 1)},
		{kind: update, input: ts(skewMS+1, 0), want: ts(w+2*skewMS+1, 1), wantErr: crdt.ErrClockSkew}, // skew is judged against physical time, not the reading
	}

	phys := &manualClock{}
	clk := crdt.NewClock(phys.now, skew, 0)
	for i, ev := range history {
		var err error
		var got crdt.Timestamp
		switch ev.kind {
		case setWall:
			phys.ms = ev.wall
			continue
		case now:
			got = clk.Now()
		case update:
			err = clk.Update(ev.input)
			got = clk.Last()
		case check:
			err = clk.Check(ev.input)
			got = clk.Last()
		}
		if !errors.Is(err, ev.wantErr) || (err == nil) != (ev.wantErr == nil) {
			t.Fatalf("event %d: err = %v, want %v", i, err, ev.wantErr)
		}
		if got != ev.want {
			t.Fatalf("event %d: clock reads (%d, %d), want (%d, %d)",
				i, got.WallMS()-w, got.Logical(), ev.want.WallMS()-w, ev.want.Logical())
		}
	}
}

func TestClockLogicalOverflowInOneMillisecond(t *testing.T) {
	phys := &manualClock{ms: testEpochMS}
	clk := crdt.NewClock(phys.now, 0, 0)
	for want := 0; want <= crdt.MaxLogical; want++ {
		if got := clk.Now(); got != ts(testEpochMS, uint16(want)) {
			t.Fatalf("reading %d = (%d, %d)", want, got.WallMS(), got.Logical())
		}
	}
	if got := clk.Now(); got != ts(testEpochMS+1, 0) {
		t.Fatalf("reading after %d in one ms = (%d, %d), want next ms with counter 0",
			crdt.MaxLogical+1, got.WallMS(), got.Logical())
	}
}

func TestClockHighWaterSurvivesRestart(t *testing.T) {
	phys := &manualClock{ms: testEpochMS}
	hw := ts(testEpochMS+100, 3) // written by a run whose clock was ahead
	clk := crdt.NewClock(phys.now, 0, hw)
	if got := clk.Last(); got != hw {
		t.Fatalf("Last() = %v, want high-water %v", got, hw)
	}
	if got := clk.Now(); got != ts(testEpochMS+100, 4) {
		t.Fatalf("Now() after restart = (%d, %d), want above high-water", got.WallMS(), got.Logical())
	}
	if clk.MaxSkew() != crdt.DefaultMaxSkew {
		t.Fatalf("MaxSkew() = %v, want default %v", clk.MaxSkew(), crdt.DefaultMaxSkew)
	}
}

func TestSkewError(t *testing.T) {
	phys := &manualClock{ms: testEpochMS}
	clk := crdt.NewClock(phys.now, time.Minute, 0)
	remote := ts(testEpochMS+90_000, 0)
	err := clk.Update(remote)
	var se *crdt.SkewError
	if !errors.Is(err, crdt.ErrClockSkew) || !errors.As(err, &se) {
		t.Fatalf("Update(far future) = %v, want *SkewError wrapping ErrClockSkew", err)
	}
	if se.Remote != remote || se.WallMS != testEpochMS || se.MaxSkew != time.Minute {
		t.Fatalf("SkewError = %+v", se)
	}
	if got, want := err.Error(), "remote clock too far ahead: 1m30s ahead, max 1m0s"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

// TestClockProperties drives a clock whose physical source jumps back and
// forward arbitrarily, interleaving Now and Update.
func TestClockProperties(t *testing.T) {
	const skew = time.Minute
	skewMS := skew.Milliseconds()
	genLogical := rapid.OneOf(
		rapid.Uint16Range(0, 3),
		rapid.Uint16Range(crdt.MaxLogical-2, crdt.MaxLogical),
	)
	rapid.Check(t, func(t *rapid.T) {
		phys := &manualClock{ms: testEpochMS}
		floor := ts(testEpochMS+rapid.Int64Range(-skewMS, skewMS).Draw(t, "high-water wall"),
			genLogical.Draw(t, "high-water logical"))
		clk := crdt.NewClock(phys.now, skew, floor)
		// floor is the greatest stamp issued or accepted so far; every
		// reading must exceed it.
		steps := rapid.IntRange(1, 100).Draw(t, "steps")
		for range steps {
			switch rapid.IntRange(0, 2).Draw(t, "event") {
			case 0:
				jump := rapid.Int64Range(-10*skewMS, 10*skewMS).Draw(t, "jump")
				phys.ms = max(0, phys.ms+jump)
			case 1:
				got := clk.Now()
				if got <= floor {
					t.Fatalf("Now() = %v, not above %v", got, floor)
				}
				if got.WallMS() < phys.ms {
					t.Fatalf("Now() wall %d behind physical %d", got.WallMS(), phys.ms)
				}
				floor = got
			case 2:
				remote := ts(phys.ms+rapid.Int64Range(-2*skewMS, 2*skewMS).Draw(t, "remote offset"),
					genLogical.Draw(t, "remote logical"))
				err := clk.Update(remote)
				if remote.WallMS()-phys.ms > skewMS {
					var se *crdt.SkewError
					if !errors.Is(err, crdt.ErrClockSkew) || !errors.As(err, &se) || se.Remote != remote {
						t.Fatalf("Update(%v) at wall %d = %v, want *SkewError", remote, phys.ms, err)
					}
					if clk.Last() != floor {
						t.Fatalf("rejected Update moved the clock from %v to %v", floor, clk.Last())
					}
					continue
				}
				if err != nil {
					t.Fatalf("Update(%v) at wall %d = %v, want accepted", remote, phys.ms, err)
				}
				floor = max(floor, remote)
				if clk.Last() != floor {
					t.Fatalf("Last() after Update = %v, want %v", clk.Last(), floor)
				}
			}
		}
	})
}

func TestClockConcurrentReadingsAreUnique(t *testing.T) {
	const goroutines, perGoroutine = 4, 2000
	// A frozen physical clock forces every reading through the logical
	// counter, where a race would show as a duplicate.
	clk := crdt.NewClock(func() int64 { return testEpochMS }, 0, 0)
	readings := make([][]crdt.Timestamp, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				readings[g] = append(readings[g], clk.Now())
			}
		})
	}
	wg.Wait()
	seen := map[crdt.Timestamp]bool{}
	for g, rs := range readings {
		for i, r := range rs {
			if i > 0 && r <= rs[i-1] {
				t.Fatalf("goroutine %d: reading %d = %v not above %v", g, i, r, rs[i-1])
			}
			if seen[r] {
				t.Fatalf("reading %v issued twice", r)
			}
			seen[r] = true
		}
	}
}
