package store

import (
	"slices"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func keysOf(recs []crdt.Record) []string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	return keys
}

func testListPagination(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	for _, k := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2"} {
		mustPut(t, s.Store, "n", k, `"`+k+`"`)
	}
	mustPut(t, s.Store, "n2", "a0", `0`)
	mustPut(t, s.Store, "m", "a9", `0`)
	mustDelete(t, s.Store, "n", "a3")
	mustDelete(t, s.Store, "n", "a6")

	pages := []struct {
		prefix, after string
		limit         int
		want          []string
		more          bool
	}{
		{"a", "", 2, []string{"a1", "a2"}, true},
		// a3 is a tombstone; a6, the last key under the prefix, is too, so
		// nothing live follows a5.
		{"a", "a2", 2, []string{"a4", "a5"}, false},
		{"a", "a5", 2, nil, false},
		{"", "", 100, []string{"a1", "a2", "a4", "a5", "b1", "b2"}, false},
		{"", "a5", 1, []string{"b1"}, true},
		{"", "b1", 1, []string{"b2"}, false},
		{"b", "", 2, []string{"b1", "b2"}, false},
		// An after key below the prefix starts at the prefix.
		{"b", "a9", 1, []string{"b1"}, true},
		{"a", "zzz", 5, nil, false},
		{"c", "", 5, nil, false},
	}
	for _, p := range pages {
		recs, more, err := s.List("n", p.prefix, p.after, p.limit)
		if err != nil {
			t.Fatalf("list prefix=%q after=%q limit=%d: %v", p.prefix, p.after, p.limit, err)
		}
		if got := keysOf(recs); !slices.Equal(got, p.want) || more != p.more {
			t.Errorf("list prefix=%q after=%q limit=%d = %v more=%v, want %v more=%v",
				p.prefix, p.after, p.limit, got, more, p.want, p.more)
		}
		for _, r := range recs {
			if r.NS != "n" || r.Deleted || string(r.Value) != `"`+r.Key+`"` {
				t.Errorf("listed record %+v", r)
			}
		}
	}

	// Following more/after page by page visits every live key once.
	var all []string
	after := ""
	for {
		recs, more, err := s.List("n", "", after, 1)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, keysOf(recs)...)
		if !more {
			break
		}
		after = recs[len(recs)-1].Key
	}
	if want := []string{"a1", "a2", "a4", "a5", "b1", "b2"}; !slices.Equal(all, want) {
		t.Fatalf("paged keys = %v, want %v", all, want)
	}
}

func testListBounds(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "n", "k", `1`)
	for _, limit := range []int{0, -1} {
		if _, _, err := s.List("n", "", "", limit); err == nil {
			t.Errorf("list with limit %d succeeded", limit)
		}
	}
	recs, more, err := s.List("empty", "", "", 10)
	if err != nil || len(recs) != 0 || more {
		t.Fatalf("list of an empty namespace = %v more=%v err=%v", describe(recs), more, err)
	}
}
