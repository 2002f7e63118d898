package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

// baseMS is the wall time every test clock starts at.
const baseMS = 1_750_000_000_000

// manualClock is an injected physical clock that moves only when told to.
type manualClock struct{ ms atomic.Int64 }

func newManualClock(ms int64) *manualClock {
	c := &manualClock{}
	c.ms.Store(ms)
	return c
}

func (c *manualClock) Now() int64      { return c.ms.Load() }
func (c *manualClock) Set(ms int64)    { c.ms.Store(ms) }
func (c *manualClock) Advance(d int64) { c.ms.Add(d) }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testOptions are small-footprint options for origin on clk; the caller sets
// Dir or InMemory.
func testOptions(origin crdt.NodeID, clk *manualClock) Options {
	return Options{
		Origin:         origin,
		Clock:          clk.Now,
		MemTableSize:   8 << 20,
		BlockCacheSize: 1 << 20,
		Logger:         discardLogger(),
	}
}

// mustOpen opens a store with opts and closes it at cleanup.
func mustOpen(tb testing.TB, opts Options) *Store {
	tb.Helper()
	s, err := Open(opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// backend opens fresh stores of one kind: every store a test opens through
// it is independent and closed at cleanup.
type backend struct {
	name string
	open func(tb testing.TB, origin crdt.NodeID, clk *manualClock) *Store
}

var backends = []backend{
	{name: "disk", open: func(tb testing.TB, origin crdt.NodeID, clk *manualClock) *Store {
		opts := testOptions(origin, clk)
		opts.Dir = tb.TempDir()
		return mustOpen(tb, opts)
	}},
	{name: "memory", open: func(tb testing.TB, origin crdt.NodeID, clk *manualClock) *Store {
		opts := testOptions(origin, clk)
		opts.InMemory = true
		return mustOpen(tb, opts)
	}},
}

// fixture is one store under test with its clock.
type fixture struct {
	*Store
	clk *manualClock
}

func (b backend) fixture(tb testing.TB, origin crdt.NodeID) fixture {
	clk := newManualClock(baseMS)
	return fixture{Store: b.open(tb, origin, clk), clk: clk}
}

func mustPut(tb testing.TB, s *Store, ns, key, value string) crdt.Version {
	tb.Helper()
	v, err := s.Put(context.Background(), ns, key, []byte(value))
	if err != nil {
		tb.Fatalf("put %s/%s: %v", ns, key, err)
	}
	return v
}

func mustDelete(tb testing.TB, s *Store, ns, key string) crdt.Version {
	tb.Helper()
	v, err := s.Delete(context.Background(), ns, key)
	if err != nil {
		tb.Fatalf("delete %s/%s: %v", ns, key, err)
	}
	return v
}

func mustApply(tb testing.TB, s *Store, recs ...crdt.Record) ApplyResult {
	tb.Helper()
	res, err := s.Apply(context.Background(), recs)
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	return res
}

func mustGet(tb testing.TB, s *Store, ns, key string) crdt.Record {
	tb.Helper()
	r, err := s.Get(ns, key)
	if err != nil {
		tb.Fatalf("get %s/%s: %v", ns, key, err)
	}
	return r
}

// remote builds a record as a peer would send it.
func remote(ns, key, value string, hlc crdt.Timestamp, origin crdt.NodeID, seq uint64) crdt.Record {
	r := crdt.Record{NS: ns, Key: key, Version: crdt.Version{HLC: hlc, Origin: origin, Seq: seq}}
	if value == "" {
		r.Deleted = true
	} else {
		r.Value = []byte(value)
	}
	return r
}

// stamp is the HLC at baseMS plus ms milliseconds.
func stamp(ms int64) crdt.Timestamp { return crdt.NewTimestamp(baseMS+ms, 0) }

// allRecords returns every current record, tombstones included, read from
// the change feed, which holds exactly one entry per key.
func allRecords(tb testing.TB, s *Store) []crdt.Record {
	tb.Helper()
	recs, err := readAll(s)
	if err != nil {
		tb.Fatal(err)
	}
	return recs
}

// readAll is allRecords for callers without a testing.TB.
func readAll(s *Store) ([]crdt.Record, error) {
	var out []crdt.Record
	var since uint64
	for {
		changes, next, err := s.Changes(since, "", 100)
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			break
		}
		for _, c := range changes {
			out = append(out, c.Record)
		}
		since = next
	}
	sortRecords(out)
	return out, nil
}

func sortRecords(recs []crdt.Record) {
	slices.SortFunc(recs, func(a, b crdt.Record) int {
		if c := strings.Compare(a.NS, b.NS); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

func recordsEqual(a, b []crdt.Record) bool {
	return slices.EqualFunc(a, b, func(x, y crdt.Record) bool {
		return x.NS == y.NS && x.Key == y.Key && x.Deleted == y.Deleted &&
			x.Version == y.Version && string(x.Value) == string(y.Value)
	})
}

func describe(recs []crdt.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "\n  %s/%s %v deleted=%v value=%q", r.NS, r.Key, r.Version, r.Deleted, r.Value)
	}
	return b.String()
}

// checkConsistent asserts that the store's summaries agree with its records:
// the digest equals one recomputed from every record, the counters match,
// the feed head is the newest feed position, and Vector, Digest and Stats
// agree with each other.
func checkConsistent(tb testing.TB, s *Store) {
	tb.Helper()
	checkSummaries(tb, s, true)
}

// checkConsistentHeadAhead is checkConsistent for a store whose feed head
// may lie beyond its newest entry: one that dropped its newest entries, or
// was restored from a backup. The head never moves back, so that no
// position is reused.
func checkConsistentHeadAhead(tb testing.TB, s *Store) {
	tb.Helper()
	checkSummaries(tb, s, false)
}

func checkSummaries(tb testing.TB, s *Store, exactHead bool) {
	tb.Helper()
	recs := allRecords(tb, s)
	var want crdt.Digest
	var live, dead int64
	for _, r := range recs {
		want.Add(r)
		if r.Deleted {
			dead++
		} else {
			live++
		}
	}
	st := s.Stats()
	if st.Digest != want || s.Digest() != want {
		tb.Errorf("digest: stats %v, Digest() %v, recomputed %v", st.Digest, s.Digest(), want)
	}
	if st.Live != live || st.Tombstones != dead {
		tb.Errorf("stats live/tombstones = %d/%d, records hold %d/%d", st.Live, st.Tombstones, live, dead)
	}
	if !maps.Equal(st.Vector, s.Vector()) {
		tb.Errorf("Stats().Vector %v != Vector() %v", st.Vector, s.Vector())
	}
	changes, _, err := s.Changes(0, "", len(recs)+1)
	if err != nil {
		tb.Fatalf("changes: %v", err)
	}
	var head uint64
	if n := len(changes); n > 0 {
		head = changes[n-1].Pos
	}
	if st.FeedHead < head || (exactHead && st.FeedHead != head) {
		tb.Errorf("feed head %d, newest feed entry %d", st.FeedHead, head)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}
