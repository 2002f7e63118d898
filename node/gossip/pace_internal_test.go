package gossip

import (
	"testing"
	"time"
)

func TestPacerAllowsBurstThenSpaces(t *testing.T) {
	p := &pacer{interval: time.Millisecond, burst: 3}
	t0 := time.Unix(1_750_000_000, 0)
	for i := range 3 {
		if d := p.reserve(t0); d != 0 {
			t.Fatalf("message %d of the burst delayed %v", i, d)
		}
	}
	if d := p.reserve(t0); d != time.Millisecond {
		t.Fatalf("4th message at once: delay %v, want 1ms", d)
	}
	if d := p.reserve(t0); d != 2*time.Millisecond {
		t.Fatalf("5th message at once: delay %v, want 2ms", d)
	}
}

func TestPacerRefillsWhenIdle(t *testing.T) {
	p := &pacer{interval: time.Millisecond, burst: 2}
	t0 := time.Unix(1_750_000_000, 0)
	p.reserve(t0)
	p.reserve(t0)
	if d := p.reserve(t0); d == 0 {
		t.Fatal("burst exceeded without delay")
	}
	// After an idle second the whole burst is available again.
	later := t0.Add(time.Second)
	for i := range 2 {
		if d := p.reserve(later); d != 0 {
			t.Fatalf("message %d after idling delayed %v", i, d)
		}
	}
}

func TestPacerSteadyTrickleNeverWaits(t *testing.T) {
	p := &pacer{interval: time.Millisecond, burst: 1}
	now := time.Unix(1_750_000_000, 0)
	for i := range 100 {
		if d := p.reserve(now); d != 0 {
			t.Fatalf("message %d at the paced rate delayed %v", i, d)
		}
		now = now.Add(time.Millisecond)
	}
}
