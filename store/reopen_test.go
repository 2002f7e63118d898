package store

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

// TestReopen closes a disk store and opens it again with a wall clock that
// stepped back an hour: records, vector, feed, digest and counters survive,
// and new writes are stamped above every stamp issued or accepted before.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	clk := newManualClock(baseMS)
	opts := testOptions("self", clk)
	opts.Dir = dir
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var newest crdt.Timestamp
	for i, k := range []string{"a", "b", "c", "a"} {
		clk.Advance(int64(i))
		newest = mustPut(t, s, "t", k, `1`).HLC
	}
	mustDelete(t, s, "t", "b")
	// A peer a minute ahead: its stamp is the highest the clock has seen.
	ahead := remote("t", "peer", `1`, stamp(time.Minute.Milliseconds()), "p", 1)
	mustApply(t, s, ahead, remote("u", "gap", `1`, stamp(2), "p", 3))
	if err := s.Join(ctx, crdt.Vector{"q": 9}); err != nil {
		t.Fatal(err)
	}
	if ahead.Version.HLC <= newest {
		t.Fatal("fixture: remote stamp is not the newest")
	}
	beforeRecs := allRecords(t, s)
	beforeStats := s.Stats()
	beforeFeed, beforeCursor, err := s.Changes(0, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Set(baseMS - time.Hour.Milliseconds())
	s = mustOpen(t, opts)
	if got := allRecords(t, s); !recordsEqual(got, beforeRecs) {
		t.Fatalf("records after reopen:%s\nwant:%s", describe(got), describe(beforeRecs))
	}
	st := s.Stats()
	if st.Digest != beforeStats.Digest || st.FeedHead != beforeStats.FeedHead ||
		st.Live != beforeStats.Live || st.Tombstones != beforeStats.Tombstones || !maps.Equal(st.Vector, beforeStats.Vector) {
		t.Fatalf("stats after reopen %+v, want %+v", st, beforeStats)
	}
	if want := (crdt.Vector{"self": 5, "p": 1, "q": 9}); !maps.Equal(st.Vector, want) {
		t.Fatalf("vector = %v, want %v", st.Vector, want)
	}
	feed, cursor, err := s.Changes(0, "", 100)
	if err != nil || cursor != beforeCursor || describeChanges(feed) != describeChanges(beforeFeed) {
		t.Fatalf("feed after reopen %s cursor %d (%v), want %s cursor %d",
			describeChanges(feed), cursor, err, describeChanges(beforeFeed), beforeCursor)
	}
	checkConsistent(t, s)

	v := mustPut(t, s, "t", "after", `1`)
	if v.HLC <= ahead.Version.HLC {
		t.Fatalf("stamp after restart %v, not above the high-water %v", v.HLC, ahead.Version.HLC)
	}
	if v.Seq != 6 {
		t.Fatalf("seq after restart %d, want 6", v.Seq)
	}
	if got := s.Stats().FeedHead; got != beforeStats.FeedHead+1 {
		t.Fatalf("feed head after a write %d, want %d", got, beforeStats.FeedHead+1)
	}
	// Writes held beyond a gap are not remembered across a restart (a pull
	// delivers them again), so filling p's gap advances p to 2 only.
	mustApply(t, s, remote("u", "two", `1`, stamp(-2*time.Hour.Milliseconds()), "p", 2))
	if got := s.Vector().Get("p"); got != 2 {
		t.Fatalf("vector[p] = %d, want 2", got)
	}
	checkConsistent(t, s)
}
