package store

import (
	"fmt"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// feedFixture writes a, b, c in ns x, d in ns y, then updates a and
// deletes b, so the feed holds c, d, a, b at positions 3 to 6.
func feedFixture(t *testing.T, b backend) fixture {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "x", "a", `1`)
	mustPut(t, s.Store, "x", "b", `1`)
	mustPut(t, s.Store, "x", "c", `1`)
	mustPut(t, s.Store, "y", "d", `1`)
	mustPut(t, s.Store, "x", "a", `2`)
	mustDelete(t, s.Store, "x", "b")
	return s
}

func describeChanges(cs []Change) string {
	out := ""
	for _, c := range cs {
		out += fmt.Sprintf("%s/%s@%d", c.Record.NS, c.Record.Key, c.Pos)
		if c.Record.Deleted {
			out += "(deleted)"
		}
		out += " "
	}
	return out
}

func testChangesFeed(t *testing.T, b backend) {
	s := feedFixture(t, b)
	head := s.Stats().FeedHead

	all, next, err := s.Changes(0, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describeChanges(all), "x/c@3 y/d@4 x/a@5 x/b@6(deleted) "; got != want {
		t.Fatalf("changes since 0 = %s, want %s", got, want)
	}
	if next != head || head != 6 {
		t.Fatalf("cursor %d, feed head %d, want 6", next, head)
	}
	// Each change carries the key's current record.
	for _, c := range all {
		if cur := mustGet(t, s.Store, c.Record.NS, c.Record.Key); !recordsEqual([]crdt.Record{cur}, []crdt.Record{c.Record}) {
			t.Errorf("change %s/%s at %v, current record at %v", c.Record.NS, c.Record.Key, c.Record.Version, cur.Version)
		}
	}
	if string(all[2].Record.Value) != `2` {
		t.Errorf("x/a change holds %s, want the latest value 2", all[2].Record.Value)
	}

	// Caught up: nothing new, cursor unchanged.
	none, again, err := s.Changes(next, "", 100)
	if err != nil || len(none) != 0 || again != next {
		t.Fatalf("changes at head = %s cursor %d err %v", describeChanges(none), again, err)
	}

	// Paging with a limit visits the same entries.
	var paged []Change
	cursor := uint64(0)
	for range 10 {
		page, n, err := s.Changes(cursor, "", 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d changes with limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		cursor = n
	}
	if describeChanges(paged) != describeChanges(all) {
		t.Fatalf("paged changes %s, want %s", describeChanges(paged), describeChanges(all))
	}

	// A new write appears after the cursor, at the next position.
	mustPut(t, s.Store, "x", "c", `3`)
	newer, _, err := s.Changes(next, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := describeChanges(newer); got != "x/c@7 " {
		t.Fatalf("changes after update = %s, want x/c@7", got)
	}
	if _, _, err := s.Changes(0, "", 0); err == nil {
		t.Fatal("changes with limit 0 succeeded")
	}
	checkConsistent(t, s.Store)
}

func testChangesNamespaceFilter(t *testing.T, b backend) {
	s := feedFixture(t, b)
	xs, next, err := s.Changes(0, "x", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describeChanges(xs), "x/c@3 x/a@5 x/b@6(deleted) "; got != want {
		t.Fatalf("changes in x = %s, want %s", got, want)
	}
	if next != 6 {
		t.Fatalf("cursor after x = %d, want 6", next)
	}
	// The cursor moves past entries of other namespaces, so a filtered
	// reader does not rescan them.
	ys, next, err := s.Changes(0, "y", 100)
	if err != nil || describeChanges(ys) != "y/d@4 " || next != 6 {
		t.Fatalf("changes in y = %s cursor %d err %v, want y/d@4 cursor 6", describeChanges(ys), next, err)
	}
	first, next, err := s.Changes(0, "x", 1)
	if err != nil || describeChanges(first) != "x/c@3 " || next != 3 {
		t.Fatalf("first x change = %s cursor %d err %v", describeChanges(first), next, err)
	}
	rest, _, err := s.Changes(next, "x", 100)
	if err != nil || describeChanges(rest) != "x/a@5 x/b@6(deleted) " {
		t.Fatalf("rest of x = %s err %v", describeChanges(rest), err)
	}
	none, next, err := s.Changes(0, "z", 100)
	if err != nil || len(none) != 0 || next != 6 {
		t.Fatalf("changes in z = %s cursor %d err %v", describeChanges(none), next, err)
	}
}
