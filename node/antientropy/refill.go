package antientropy

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// Refilling holes. A replica that dropped a revoked device's late write
// may be left without the record that write had replaced (see
// store.DropAfter). It names those keys in its request (frameHoles). The
// responder answers with its current record for each it holds
// (frameRefill) and names those it holds nothing for (frameAbsent),
// leaving out its own holes, before frameDone. If the responder's vector
// covers everything the initiator had seen when it asked, the initiator
// takes the answer with store.Refill.

// maxRefillBytes bounds the refill records one pull keeps; the keys whose
// answers did not fit are asked about again by a later pull.
const maxRefillBytes = 8 << 20

// appendKeys appends keys' encoding: a uvarint count, then each namespace
// and key length-prefixed.
func appendKeys(dst []byte, keys []store.Key) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = binary.AppendUvarint(dst, uint64(len(k.NS)))
		dst = append(dst, k.NS...)
		dst = binary.AppendUvarint(dst, uint64(len(k.Key)))
		dst = append(dst, k.Key...)
	}
	return dst
}

// decodeKeys parses the key list of a holes or absent frame: at most
// store.MaxRefill valid keys.
func decodeKeys(b []byte) ([]store.Key, error) {
	p := parser{b: b}
	n := p.uvarint()
	// A key takes at least four bytes: two lengths, a one-byte namespace
	// and a one-byte key.
	if p.err == nil && (n == 0 || n > store.MaxRefill || n > uint64(len(p.b)/4)) {
		return nil, corrupt("%d hole keys in %d bytes", n, len(b))
	}
	keys := make([]store.Key, 0, n)
	for i := uint64(0); i < n && p.err == nil; i++ {
		ns := string(p.bytes(crdt.MaxNamespaceLen))
		key := string(p.bytes(crdt.MaxKeyLen))
		if p.err != nil {
			break
		}
		if err := crdt.ValidateNamespace(ns); err != nil {
			return nil, corrupt("hole %d: %v", i, err)
		}
		if err := crdt.ValidateKey(key); err != nil {
			return nil, corrupt("hole %d: %v", i, err)
		}
		keys = append(keys, store.Key{NS: ns, Key: key})
	}
	if err := p.end(); err != nil {
		return nil, fmt.Errorf("holes: %w", err)
	}
	return keys, nil
}

// covers reports whether a responder's vector v counts every write the
// initiator had seen when it asked (its vector have and held runs), bar,
// for each hole's origin, the writes above its cut: nobody should hold
// those.
//
// Held runs as many as store.MaxHeldRuns may have been cut short: the
// writes left out cannot be checked, so the answer is not trusted.
func covers(v, have crdt.Vector, held crdt.Held, holes []store.Hole) bool {
	runs := 0
	for _, r := range held {
		runs += len(r)
	}
	if runs >= store.MaxHeldRuns {
		return false
	}
	cuts := map[crdt.NodeID]uint64{}
	for _, h := range holes {
		if c, ok := cuts[h.Origin]; !ok || h.Cut < c {
			cuts[h.Origin] = h.Cut
		}
	}
	floor := have.Clone()
	for origin, cut := range cuts {
		floor[origin] = min(floor[origin], cut)
	}
	if !v.Dominates(floor) {
		return false
	}
	for origin, runs := range held {
		for _, r := range runs {
			hi := r.Hi
			if cut, ok := cuts[origin]; ok {
				if r.Lo > cut {
					continue
				}
				hi = min(hi, cut)
			}
			if hi > v[origin] {
				return false
			}
		}
	}
	return true
}

// answer gathers a responder's answer to the holes asked about: at most
// one record per key asked, maxRefillBytes in all, and the keys it holds
// nothing for.
type answer struct {
	holes  []store.Hole
	asked  map[store.Key]bool // true once answered
	recs   []crdt.Record
	bytes  int
	absent []store.Key
}

func newAnswer(holes []store.Hole) *answer {
	a := &answer{holes: holes, asked: make(map[store.Key]bool, len(holes))}
	for _, h := range holes {
		a.asked[h.Key] = false
	}
	return a
}

// records takes the records of a refill frame. Records for keys not asked,
// or already answered, are ignored. One past the byte bound is not kept,
// but its key counts as answered, so it is not taken as absent either: it
// stays a hole, for a later pull.
func (a *answer) records(recs []crdt.Record) {
	for _, r := range recs {
		k := store.Key{NS: r.NS, Key: r.Key}
		if answered, ok := a.asked[k]; !ok || answered {
			continue
		}
		a.asked[k] = true
		if size := crdt.EncodedSize(r); a.bytes+size <= maxRefillBytes {
			a.bytes += size
			a.recs = append(a.recs, r)
		}
	}
}

// absentKeys takes the keys of an absent frame.
func (a *answer) absentKeys(keys []store.Key) {
	for _, k := range keys {
		if answered, ok := a.asked[k]; ok && !answered {
			a.asked[k] = true
			a.absent = append(a.absent, k)
		}
	}
}

// holeKeys returns the keys of holes.
func holeKeys(holes []store.Hole) []store.Key {
	keys := make([]store.Key, len(holes))
	for i, h := range holes {
		keys[i] = h.Key
	}
	return keys
}

// refill fills holes with a responder's answer, and reports what it took
// and refused as a pull does.
func (s *Service) refill(ctx context.Context, p peer.ID, a *answer, res *Result) error {
	if len(a.recs) == 0 && len(a.absent) == 0 {
		return nil
	}
	ar, err := s.cfg.Store.Refill(ctx, a.holes, a.recs, a.absent)
	if err != nil {
		return fmt.Errorf("antientropy refill: %w", err)
	}
	res.RecordsReceived += len(a.recs)
	res.RecordsApplied += len(ar.Applied)
	if len(ar.Applied) > 0 {
		s.cfg.OnApplied(p, ar.Applied)
	}
	res.RecordsRejected += len(ar.Rejected)
	for _, rj := range ar.Rejected {
		s.cfg.OnReject(p, fmt.Errorf("antientropy refill %s/%s %v: %w", rj.Record.NS, rj.Record.Key, rj.Record.Version, rj.Err))
	}
	return nil
}
