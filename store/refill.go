package store

import (
	"context"
	"fmt"
	"maps"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Holes and refills. Dropping a record that had replaced another leaves
// its key empty here, while replicas that never took the dropped record
// still hold the one it replaced; and since this replica has seen that
// record's version, no pull would send it again. DropAndRefill therefore
// remembers each key it empties as a hole. A peer that has seen every
// write this replica has can say what the key should hold, and Refill
// takes its answer, although the version is one already seen. Writing the
// key in any other way fills the hole too.

// Key names a record.
type Key struct{ NS, Key string }

// Hole is a key DropAndRefill emptied, with the version of the record it
// dropped there. A peer need not have seen that write, nor any later one
// of its origin, to answer for the key.
type Hole struct {
	Key
	Dropped crdt.Version
}

// MaxRefill bounds the keys one Refill call, and one Holes answer, covers.
const MaxRefill = 1024

// refillOp asks the commit loop to fill the holes among keys from recs.
type refillOp struct {
	keys []Key
	recs []crdt.Record
}

func (r *refillOp) cost() cost {
	var c cost
	for _, k := range r.keys {
		c = c.plus(cost{entries: 1, bytes: int64(1 + len(k.NS) + 1 + len(k.Key) + entryOverhead)})
	}
	for _, rec := range r.recs {
		c = c.plus(recordCost(rec.NS, rec.Key, rec.Version.Origin, len(rec.Value)))
	}
	return c
}

// DropAndRefill is Drop for records that should never have been accepted
// (a revoked device's writes after its cut): each key it empties becomes a
// hole, listed by Holes until a write or a Refill fills it.
func (s *Store) DropAndRefill(ctx context.Context, match func(crdt.Record) bool) (int, error) {
	return s.drop(ctx, match, true)
}

// Holes returns up to MaxRefill holes: keys emptied by DropAndRefill and
// not written since, in key order.
func (s *Store) Holes() []Hole {
	s.mu.RLock()
	holes := s.committed.holes
	s.mu.RUnlock()
	refs := make([]string, 0, len(holes))
	for ref := range holes {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	out := make([]Hole, 0, min(len(refs), MaxRefill))
	for _, ref := range refs[:min(len(refs), MaxRefill)] {
		ns, key, err := splitNSKey([]byte(ref))
		if err == nil {
			out = append(out, Hole{Key: Key{ns, key}, Dropped: holes[ref]})
		}
	}
	return out
}

// Refill fills the holes among keys (at most MaxRefill) with the newest
// of recs for each, or leaves the key empty if recs hold none; a key that
// is no longer a hole is left alone. Records are checked as Apply checks
// them, but one of a version already seen is not stale here.
//
// Only a peer that had seen every write this replica had seen (its vector
// covers this replica's vector and held writes, as they were when the
// keys were asked for) may answer: its record for a key is then at least
// as new as any this replica ever held for it, bar the dropped ones. The
// caller leaves out of keys any key whose record it refused.
func (s *Store) Refill(ctx context.Context, keys []Key, recs []crdt.Record) (ApplyResult, error) {
	if len(keys) > MaxRefill {
		return ApplyResult{}, fmt.Errorf("store refill: %d keys, at most %d", len(keys), MaxRefill)
	}
	o := &op{refill: &refillOp{keys: keys, recs: recs}}
	if err := s.submit(ctx, o); err != nil {
		return ApplyResult{}, fmt.Errorf("store refill: %w", err)
	}
	return o.result, nil
}

// refill fills the holes among r.keys.
func (m *merger) refill(r *refillOp) (ApplyResult, error) {
	var res ApplyResult
	newest := map[string]crdt.Record{}
	for _, rec := range r.recs {
		if err := m.check(rec); err != nil {
			res.Rejected = append(res.Rejected, Rejection{Record: rec, Err: err})
			continue
		}
		ref := string(nsKey(rec.NS, rec.Key))
		if best, ok := newest[ref]; !ok || crdt.Supersedes(rec, best) {
			newest[ref] = rec
		}
	}
	for _, k := range r.keys {
		ref := nsKey(k.NS, k.Key)
		if _, ok := m.st.holes[string(ref)]; !ok {
			continue
		}
		rec, ok := newest[string(ref)]
		if !ok {
			if err := m.fillHole(ref); err != nil {
				return res, err
			}
			continue
		}
		cur, err := m.get(k.NS, k.Key)
		if err != nil {
			return res, err
		}
		if cur != nil && !crdt.Supersedes(rec, cur.rec) {
			res.Stale++
			continue
		}
		if err := m.install(rec, cur); err != nil { // fills the hole
			return res, err
		}
		m.observe(rec.Version)
		res.Applied = append(res.Applied, rec)
	}
	return res, nil
}

// markHole records ref as a hole left by dropping a record of version v.
func (m *merger) markHole(ref []byte, v crdt.Version) error {
	m.ownHoles()
	m.st.holes[string(ref)] = v
	return m.txn.Set(holeKey(ref), encodeHole(v))
}

// encodeHole encodes a hole's dropped version: seq(8) ∥ origin.
func encodeHole(v crdt.Version) []byte {
	return append(u64(v.Seq), v.Origin...)
}

func decodeHole(b []byte) (crdt.Version, error) {
	if len(b) < 8 {
		return crdt.Version{}, fmt.Errorf("%w: short hole", ErrCorrupt)
	}
	seq, _ := readU64(b[:8])
	return crdt.Version{Origin: crdt.NodeID(b[8:]), Seq: seq}, nil
}

// fillHole forgets ref as a hole, if it is one.
func (m *merger) fillHole(ref []byte) error {
	if _, ok := m.st.holes[string(ref)]; !ok {
		return nil
	}
	m.ownHoles()
	delete(m.st.holes, string(ref))
	return m.txn.Delete(holeKey(ref))
}

// ownHoles gives the working state its own copy of the hole set, once per
// commit: the published state's set is never changed in place.
func (m *merger) ownHoles() {
	if m.holesOwned {
		return
	}
	m.holesOwned = true
	m.st.holes = maps.Clone(m.st.holes)
	if m.st.holes == nil {
		m.st.holes = map[string]crdt.Version{}
	}
}

// readHoles loads the hole set; nil if there is none.
func readHoles(txn *badger.Txn) (map[string]crdt.Version, error) {
	var holes map[string]crdt.Version
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagHole}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var v crdt.Version
		err := it.Item().Value(func(b []byte) (err error) {
			v, err = decodeHole(b)
			return err
		})
		if err != nil {
			return nil, err
		}
		if holes == nil {
			holes = map[string]crdt.Version{}
		}
		holes[string(it.Item().Key()[1:])] = v
	}
	return holes, nil
}
