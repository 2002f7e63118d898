package store

import (
	"testing"
	"time"
)

func TestLingerer(t *testing.T) {
	var l lingerer
	if d := l.wait(1); d != 0 {
		t.Fatalf("fresh lingerer waits %v for a lone write; a single writer must never wait", d)
	}

	l.committed(1, 2*time.Millisecond)
	if d := l.wait(1); d != 0 {
		t.Fatalf("after batches of one, a lone write waits %v; want 0", d)
	}

	// Sixteen writers were acknowledged together: the next batch waits for
	// them, but for no more than part of the fsync it would save.
	l.committed(16, 800*time.Microsecond)
	if d := l.wait(3); d <= 0 || d >= 800*time.Microsecond {
		t.Fatalf("batch of 3 after one of 16 waits %v; want a positive part of the 800µs commit", d)
	}
	if d := l.wait(16); d != 0 {
		t.Fatalf("batch as large as the recent ones waits %v; want 0", d)
	}

	// A slow disk does not make a batch wait without bound.
	l.committed(16, time.Second)
	if d := l.wait(1); d > maxLinger {
		t.Fatalf("wait %v exceeds maxLinger %v", d, maxLinger)
	}

	// Once the writers are gone, the recent batches forget them.
	for range lingerMemory {
		l.committed(1, time.Millisecond)
	}
	if d := l.wait(1); d != 0 {
		t.Fatalf("after %d batches of one, a lone write still waits %v", lingerMemory, d)
	}
}
