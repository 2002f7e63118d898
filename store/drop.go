package store

import (
	"context"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// dropScanChunk bounds how many candidate keys Drop gathers from one read
// view before removing them, so its memory stays flat for any store size.
const dropScanChunk = 1000

// dropOp asks the commit loop to remove the records under refs (ns∥0∥key)
// for which match still holds.
type dropOp struct {
	refs  [][]byte
	match func(crdt.Record) bool
	// hole, if set, marks each emptied key as a hole (see DropAfter).
	hole *Hole
}

// dropCost estimates removing the record under ref: deleting its record,
// origin-index and feed entries, and perhaps marking a hole.
func dropCost(ref []byte) cost {
	return cost{entries: 4, bytes: int64(4*len(ref) + crdt.MaxOriginLen + 4*entryOverhead)}
}

// Drop removes every current record for which match returns true: its
// record, per-origin index and feed entries, and its share of the digest
// and counters. The vector is not lowered, so a copy of a dropped record
// that arrives later counts as stale and is not installed again. It returns
// how many records were removed.
//
// Candidates are gathered in bounded chunks from read views and removed
// through the commit loop, where match is checked again against the record
// current at that moment. match is therefore called more than once per
// record, from other goroutines; it must be fast and must not call the store.
func (s *Store) Drop(ctx context.Context, match func(crdt.Record) bool) (int, error) {
	return s.drop(ctx, match, nil)
}

func (s *Store) drop(ctx context.Context, match func(crdt.Record) bool, hole *Hole) (int, error) {
	dropped := 0
	var after []byte // the last record key scanned
	for {
		refs, next, err := s.dropCandidates(after, match)
		if err != nil {
			return dropped, fmt.Errorf("store drop: %w", err)
		}
		for len(refs) > 0 {
			n := s.limits.chunk(len(refs), func(i int) cost { return dropCost(refs[i]) })
			o := &op{drop: &dropOp{refs: refs[:n], match: match, hole: hole}}
			if err := s.submit(ctx, o); err != nil {
				return dropped, fmt.Errorf("store drop: %w", err)
			}
			dropped += o.dropped
			refs = refs[n:]
		}
		if next == nil {
			return dropped, nil
		}
		after = next
	}
}

// Collect removes the tombstones that q covers: those whose (origin, seq)
// every replica counted in q has seen, so none can hold an older record of
// the key that the tombstone must still override. It returns how many were
// removed.
func (s *Store) Collect(ctx context.Context, q crdt.Vector) (int, error) {
	q = q.Clone()
	return s.Drop(ctx, func(r crdt.Record) bool {
		return r.Deleted && q.Covers(r.Version.Origin, r.Version.Seq)
	})
}

// dropCandidates returns the references of up to dropScanChunk records,
// after the record key after (nil: from the start), that match, and the
// record key to resume after, nil once the table is exhausted.
func (s *Store) dropCandidates(after []byte, match func(crdt.Record) bool) (refs [][]byte, next []byte, err error) {
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagRecord}, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		start := []byte{tagRecord}
		if after != nil {
			start = append(after[:len(after):len(after)], 0) // the smallest key above after
		}
		for it.Seek(start); it.Valid(); it.Next() {
			item := it.Item()
			sr, err := itemStored(item)
			if err != nil {
				return err
			}
			if !match(sr.rec) {
				continue
			}
			refs = append(refs, item.KeyCopy(nil)[1:])
			if len(refs) == dropScanChunk {
				next = item.KeyCopy(nil)
				return nil
			}
		}
		return nil
	})
	return refs, next, err
}

// drop removes the records of d that still match and returns how many.
func (m *merger) drop(d *dropOp) (int, error) {
	n := 0
	for _, ref := range d.refs {
		ns, key, err := splitNSKey(ref)
		if err != nil {
			return n, err
		}
		cur, err := m.get(ns, key)
		if err != nil {
			return n, err
		}
		if cur == nil || !d.match(cur.rec) {
			continue
		}
		if err := m.remove(cur); err != nil {
			return n, err
		}
		if d.hole != nil {
			if err := m.markHole(ref, *d.hole); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

// remove deletes cur, the current record of its key, from the record
// table, the per-origin index, the change feed, the digest and the counters.
func (m *merger) remove(cur *storedRecord) error {
	rec := cur.rec
	for _, k := range [][]byte{
		recordKey(rec.NS, rec.Key),
		originKey(rec.Version.Origin, rec.Version.Seq),
		feedKey(cur.feedPos),
	} {
		if err := m.txn.Delete(k); err != nil {
			return err
		}
	}
	m.st.digest.Remove(rec)
	m.count(rec, -1)
	return nil
}
