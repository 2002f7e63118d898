package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/syncnode/syncnode/node/clocktest"
)

func newManualClock() *clocktest.Manual {
	return clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// failN records n failures for source.
func failN(l *Limiter, source string, n int) {
	for range n {
		l.Fail(source)
	}
}

func TestAllowDoesNotConsume(t *testing.T) {
	l := New(rate.Every(time.Minute), 2, 10, newManualClock().Now)
	for range 100 {
		if !l.Allow("a") {
			t.Fatal("Allow refused a source that never failed")
		}
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("Allow added sources to the table: Len = %d, want 0", n)
	}
}

func TestFailuresExhaustBurstThenRefill(t *testing.T) {
	clock := newManualClock()
	l := New(rate.Every(time.Minute), 3, 10, clock.Now)

	failN(l, "a", 2)
	if !l.Allow("a") {
		t.Fatal("refused after 2 of 3 allowed failures")
	}
	l.Fail("a")
	if l.Allow("a") {
		t.Fatal("allowed after the burst of 3 failures was spent")
	}
	if !l.Allow("b") {
		t.Fatal("one source's failures limited another source")
	}

	clock.Advance(59 * time.Second)
	if l.Allow("a") {
		t.Fatal("allowed before a token refilled")
	}
	clock.Advance(time.Second)
	if !l.Allow("a") {
		t.Fatal("refused after one refill interval")
	}
	l.Fail("a")
	if l.Allow("a") {
		t.Fatal("one refill interval granted more than one attempt")
	}

	clock.Advance(time.Hour)
	failN(l, "a", 2)
	if !l.Allow("a") {
		t.Fatal("refill is not capped at burst: refused after 2 failures following a long idle")
	}
	l.Fail("a")
	if l.Allow("a") {
		t.Fatal("long idle refilled more than burst tokens")
	}
}

func TestFailWhileLimitedDoesNotGoIntoDebt(t *testing.T) {
	clock := newManualClock()
	l := New(rate.Every(time.Minute), 1, 10, clock.Now)
	failN(l, "a", 50)
	clock.Advance(time.Minute)
	if !l.Allow("a") {
		t.Fatal("failures while limited delayed recovery beyond one interval")
	}
}

func TestFloodOfDistinctSourcesStaysBounded(t *testing.T) {
	const maxSources, flood = 1000, 100_000
	l := New(rate.Every(time.Minute), 1, maxSources, newManualClock().Now)

	l.Fail("early")
	for i := range flood {
		src := fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
		l.Fail(src)
		if n := l.Len(); n > maxSources {
			t.Fatalf("after %d sources Len = %d, want at most %d", i+1, n, maxSources)
		}
	}
	l.Fail("recent")
	if l.Allow("recent") {
		t.Fatal("the most recent offender was forgotten")
	}
	if !l.Allow("early") {
		t.Fatal("the oldest offender is still tracked beyond maxSources")
	}
}

func TestRepeatOffenderIsKeptOverIdleSources(t *testing.T) {
	l := New(rate.Every(time.Minute), 1, 3, newManualClock().Now)
	l.Fail("offender")
	for _, src := range []string{"x", "y", "z"} {
		l.Fail("offender") // keeps it most recent
		l.Fail(src)
	}
	if l.Allow("offender") {
		t.Fatal("a source that keeps failing was evicted")
	}
	if !l.Allow("x") {
		t.Fatal("the least recently failing source was not the one evicted")
	}
}

func TestConcurrentUse(t *testing.T) {
	l := New(rate.Every(time.Second), 5, 64, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				src := fmt.Sprint((g*2000 + i) % 100)
				if l.Allow(src) {
					l.Fail(src)
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > 64 {
		t.Fatalf("Len = %d, want at most 64", n)
	}
}

func BenchmarkFailDistinctSources(b *testing.B) {
	l := New(rate.Every(time.Minute), 1, 10_000, nil)
	srcs := make([]string, 1<<16)
	for i := range srcs {
		srcs[i] = fmt.Sprint(i)
	}
	for i := 0; b.Loop(); i++ {
		src := srcs[i&(len(srcs)-1)]
		if l.Allow(src) {
			l.Fail(src)
		}
	}
}
