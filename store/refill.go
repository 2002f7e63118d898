package store

import (
	"context"
	"fmt"
	"maps"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Holes and refills. Dropping a revoked device's late write that had
// replaced another record leaves its key empty here, while replicas that
// never took the late write still hold the record it replaced; and since
// this replica has seen that record's version, no pull would send it
// again. DropAfter therefore remembers each key it empties as a hole. A
// peer that has seen every write this replica has (bar the revoked
// device's after its cut) can say what the key should hold, and Refill
// takes its answer, although the version is one already seen. Writing the
// key in any other way fills the hole too.

// Key names a record.
type Key struct{ NS, Key string }

// Hole is a key DropAfter emptied, with the revoked origin and the cut
// above which its writes were dropped: a peer need not have seen those to
// answer for the key.
type Hole struct {
	Key
	Origin crdt.NodeID
	Cut    uint64
	// Gen tells this hole from an earlier one of the same key, filled
	// since: an answer about that one must not fill this one.
	Gen uint64
}

// MaxRefill bounds the holes one Holes answer lists.
const MaxRefill = 1024

// refillOp asks the commit loop to fill holes, each only if it is still
// the one asked about (asked maps ref to Gen): those of recs' keys with
// their record (one per key), those of absent with nothing.
type refillOp struct {
	asked  map[string]uint64
	recs   []crdt.Record
	absent []Key
}

func (r *refillOp) cost() cost {
	var c cost
	for _, k := range r.absent {
		c = c.plus(cost{entries: 1, bytes: int64(1 + len(k.NS) + 1 + len(k.Key) + entryOverhead)})
	}
	for _, rec := range r.recs {
		c = c.plus(recordCost(rec.NS, rec.Key, rec.Version.Origin, len(rec.Value)))
	}
	return c
}

// DropAfter drops every current record of origin with a seq above cut,
// the writes of a revoked device it should never have accepted, as Drop
// does. Each key it empties becomes a hole, listed by Holes until a write
// or a Refill fills it. It returns how many records it dropped.
func (s *Store) DropAfter(ctx context.Context, origin crdt.NodeID, cut uint64) (int, error) {
	return s.drop(ctx, func(r crdt.Record) bool {
		return r.Version.Origin == origin && r.Version.Seq > cut
	}, &Hole{Origin: origin, Cut: cut})
}

// HoleCount returns how many holes there are, however many.
func (s *Store) HoleCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.committed.holes)
}

// Holes returns up to MaxRefill holes, in key order.
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
			h := holes[ref]
			h.Key = Key{ns, key}
			out = append(out, h)
		}
	}
	return out
}

// Refill fills holes from a peer's answer about asked, as Holes returned
// them: a hole whose key recs hold a record for takes the newest of them,
// and a hole in absent, a key the peer holds no record for, is left empty
// for good. A hole filled and made again since it was asked about, other
// keys, and holes whose records are refused (checked as Apply checks them,
// bar the seen rule: an answer's version is one this replica has seen),
// are left as they are.
//
// Only a peer that had seen every write this replica had (its vector
// covering this replica's vector and held writes as they were when it
// asked, bar each hole's origin above its cut) may answer, and only for
// keys it does not hold as holes itself: its record for a key is then at
// least as new as any this replica held for it, bar the dropped ones.
func (s *Store) Refill(ctx context.Context, asked []Hole, recs []crdt.Record, absent []Key) (ApplyResult, error) {
	gens := make(map[string]uint64, len(asked))
	for _, h := range asked {
		gens[string(nsKey(h.NS, h.Key.Key))] = h.Gen
	}
	recs = newestPerKey(recs)
	var total ApplyResult
	for len(recs) > 0 || len(absent) > 0 {
		o := &op{refill: s.refillChunk(&recs, &absent)}
		o.refill.asked = gens
		if err := s.submit(ctx, o); err != nil {
			return total, fmt.Errorf("store refill: %w", err)
		}
		total.add(o.result)
	}
	return total, nil
}

// newestPerKey keeps, for each key, the record that supersedes the others.
func newestPerKey(recs []crdt.Record) []crdt.Record {
	at := map[Key]int{}
	out := make([]crdt.Record, 0, len(recs))
	for _, r := range recs {
		k := Key{r.NS, r.Key}
		i, ok := at[k]
		switch {
		case !ok:
			at[k] = len(out)
			out = append(out, r)
		case crdt.Supersedes(r, out[i]):
			out[i] = r
		}
	}
	return out
}

// refillChunk takes from the front of recs, then absent, what fits one
// commit; at least one item.
func (s *Store) refillChunk(recs *[]crdt.Record, absent *[]Key) *refillOp {
	r := &refillOp{}
	if len(*recs) > 0 {
		n := s.limits.chunk(len(*recs), func(i int) cost {
			rec := (*recs)[i]
			return recordCost(rec.NS, rec.Key, rec.Version.Origin, len(rec.Value))
		})
		r.recs, *recs = (*recs)[:n], (*recs)[n:]
		return r
	}
	n := s.limits.chunk(len(*absent), func(i int) cost {
		k := (*absent)[i]
		return cost{entries: 1, bytes: int64(1 + len(k.NS) + 1 + len(k.Key) + entryOverhead)}
	})
	r.absent, *absent = (*absent)[:n], (*absent)[n:]
	return r
}

// refill fills holes from r.
func (m *merger) refill(r *refillOp) (ApplyResult, error) {
	var res ApplyResult
	for _, rec := range r.recs {
		ref := nsKey(rec.NS, rec.Key)
		if !m.askedHole(r, ref) {
			res.Stale++
			continue
		}
		if err := m.check(rec); err != nil {
			res.Rejected = append(res.Rejected, Rejection{Record: rec, Err: err})
			continue
		}
		if err := m.merge(rec, &res); err != nil { // installing fills the hole
			return res, err
		}
	}
	for _, k := range r.absent {
		if ref := nsKey(k.NS, k.Key); m.askedHole(r, ref) {
			if err := m.fillHole(ref); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// askedHole reports whether ref is still the hole r asked about.
func (m *merger) askedHole(r *refillOp, ref []byte) bool {
	h, ok := m.st.holes[string(ref)]
	gen, asked := r.asked[string(ref)]
	return ok && asked && h.Gen == gen
}

// markHole records ref as a hole h left. Its generation is the feed head:
// a key emptied again must first have been written again, which moves it.
func (m *merger) markHole(ref []byte, h Hole) error {
	m.ownHoles()
	h = Hole{Origin: h.Origin, Cut: h.Cut, Gen: m.st.feedHead}
	m.st.holes[string(ref)] = h
	return m.txn.Set(holeKey(ref), encodeHole(h))
}

// encodeHole encodes a hole: cut(8) ∥ gen(8) ∥ origin.
func encodeHole(h Hole) []byte {
	return append(append(u64(h.Cut), u64(h.Gen)...), h.Origin...)
}

func decodeHole(b []byte) (Hole, error) {
	if len(b) <= 16 || len(b) > 16+crdt.MaxOriginLen {
		return Hole{}, fmt.Errorf("%w: hole of %d bytes", ErrCorrupt, len(b))
	}
	cut, _ := readU64(b[:8])
	gen, _ := readU64(b[8:16])
	return Hole{Origin: crdt.NodeID(b[16:]), Cut: cut, Gen: gen}, nil
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
		m.st.holes = map[string]Hole{}
	}
}

// readHoles loads the hole set; nil if there is none.
func readHoles(txn *badger.Txn) (map[string]Hole, error) {
	var holes map[string]Hole
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagHole}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var h Hole
		err := it.Item().Value(func(b []byte) (err error) {
			h, err = decodeHole(b)
			return err
		})
		if err != nil {
			return nil, err
		}
		if holes == nil {
			holes = map[string]Hole{}
		}
		holes[string(it.Item().Key()[1:])] = h
	}
	return holes, nil
}
