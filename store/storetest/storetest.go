// Package storetest opens stores for tests. It is test-only: stores it
// opens are in memory and closed when the test ends.
package storetest

import (
	"log/slog"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// InMemory opens an in-memory store for origin on the given physical clock
// (nil means the wall clock), with small Badger buffers and no logging, and
// closes it when tb ends.
func InMemory(tb testing.TB, origin crdt.NodeID, clock crdt.PhysicalClock) *store.Store {
	tb.Helper()
	st, err := store.Open(store.Options{
		InMemory:       true,
		Origin:         origin,
		Clock:          clock,
		MemTableSize:   16 << 20,
		BlockCacheSize: 1 << 20,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
