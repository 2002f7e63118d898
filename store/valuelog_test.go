package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// valueLogBytes sums the sizes of the value-log files in dir.
func valueLogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	return n
}

// TestValueLogCollectionReclaimsOverwrittenRecords: records big enough for
// the value log, overwritten many times, leave garbage there; collecting it
// gives the disk back and keeps every current record.
func TestValueLogCollectionReclaimsOverwrittenRecords(t *testing.T) {
	defer func(size int64) { valueLogFileSize = size }(valueLogFileSize)
	valueLogFileSize = 1 << 20 // Badger's smallest
	dir := t.TempDir()
	opts := testOptions("self", newManualClock(0))
	opts.Dir, opts.InMemory = dir, false
	opts.MemTableSize = 256 << 10 // flushed, and compacted, often
	s := mustOpen(t, opts)

	const keys, rounds = 64, 80
	value := func(round int) string { return `"` + strings.Repeat(fmt.Sprint(round%10), 4<<10) + `"` }
	for round := range rounds {
		ws := make([]Write, keys)
		for k := range ws {
			ws[k] = Write{NS: "blobs", Key: fmt.Sprint(k), Value: []byte(value(round))}
		}
		if _, err := s.WriteAll(context.Background(), ws); err != nil {
			t.Fatal(err)
		}
	}
	// Compaction, which Badger runs as memtables are flushed, is what
	// tells the value log which of its entries are garbage.
	before := valueLogBytes(t, dir)
	n := 0
	waitFor(t, "value-log files worth collecting", func() bool {
		var err error
		if n, err = s.collectValueLog(); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	after := valueLogBytes(t, dir)
	if n == 0 || after >= before {
		t.Fatalf("collection rewrote %d files; value log %d → %d bytes, want it to shrink", n, before, after)
	}
	for k := range keys {
		if rec := mustGet(t, s, "blobs", fmt.Sprint(k)); string(rec.Value) != value(rounds-1) {
			t.Fatalf("key %d lost its current value after collection", k)
		}
	}
	t.Logf("value log %d → %d bytes, %d files rewritten", before, after, n)
}
