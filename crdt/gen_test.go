package crdt_test

import (
	"bytes"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

// The generators draw from deliberately small domains so that ties on HLC,
// origin and seq are common rather than astronomically rare.
var (
	testOrigins = []crdt.NodeID{"node-a", "node-b", "node-c"}
	testValues  = []string{`1`, `"x"`, `{"a":1}`, `null`}
)

// genRecordFor draws live records and tombstones for one (ns, key).
func genRecordFor(ns, key string) *rapid.Generator[crdt.Record] {
	return rapid.Custom(func(t *rapid.T) crdt.Record {
		r := crdt.Record{
			NS:  ns,
			Key: key,
			Version: crdt.Version{
				HLC: crdt.NewTimestamp(
					rapid.Int64Range(1, 3).Draw(t, "wall"),
					rapid.Uint16Range(0, 2).Draw(t, "logical"),
				),
				Origin: rapid.SampledFrom(testOrigins).Draw(t, "origin"),
				Seq:    rapid.Uint64Range(1, 3).Draw(t, "seq"),
			},
		}
		if rapid.Bool().Draw(t, "deleted") {
			r.Deleted = true
		} else {
			r.Value = []byte(rapid.SampledFrom(testValues).Draw(t, "value"))
		}
		return r
	})
}

// genRecord draws records that all share one (ns, key).
func genRecord() *rapid.Generator[crdt.Record] { return genRecordFor("tasks", "k") }

// genStateRecord draws a record for one of a few (ns, key) pairs, as held in
// a replica's state.
func genStateRecord() *rapid.Generator[crdt.Record] {
	return rapid.Custom(func(t *rapid.T) crdt.Record {
		ns := rapid.SampledFrom([]string{"tasks", "notes", "work/tasks"}).Draw(t, "ns")
		key := rapid.StringMatching(`[a-z]{1,3}`).Draw(t, "key")
		return genRecordFor(ns, key).Draw(t, "record")
	})
}

// genState draws a replica state: records with distinct (ns, key).
func genState() *rapid.Generator[[]crdt.Record] {
	return rapid.SliceOfNDistinct(genStateRecord(), 0, 12, func(r crdt.Record) [2]string {
		return [2]string{r.NS, r.Key}
	})
}

// sameRecord is semantic record equality: a nil and an empty Value are the
// same value.
func sameRecord(a, b crdt.Record) bool {
	return a.NS == b.NS && a.Key == b.Key && a.Version == b.Version &&
		a.Deleted == b.Deleted && bytes.Equal(a.Value, b.Value)
}

func requireSameRecord(tb rapid.TB, what string, got, want crdt.Record) {
	tb.Helper()
	if !sameRecord(got, want) {
		tb.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func mergeAll(rs []crdt.Record) crdt.Record {
	w := rs[0]
	for _, r := range rs[1:] {
		w = crdt.Merge(w, r)
	}
	return w
}
