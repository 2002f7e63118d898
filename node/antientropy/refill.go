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
// store.DropAndRefill). It names those keys in its request (frameHoles);
// the responder answers with its current record for each it holds
// (frameRefill, before frameDone); and if the responder's vector covers
// everything the initiator had seen when it asked, the initiator takes
// the answers with store.Refill.

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

// decodeKeys parses a holes payload: at most store.MaxRefill valid keys.
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
// initiator had seen when it asked (its vector have and held runs), bar
// the writes dropped to leave its holes and later ones of their origins:
// the responder never took those, nor should have.
func covers(v, have crdt.Vector, held crdt.Held, holes []store.Hole) bool {
	floor := have.Clone()
	for _, h := range holes {
		if o := h.Dropped.Origin; h.Dropped.Seq > 0 {
			floor[o] = min(floor[o], h.Dropped.Seq-1)
		}
	}
	if !v.Dominates(floor) {
		return false
	}
	for origin, runs := range held {
		if len(runs) > 0 && runs[len(runs)-1].Hi > max(v[origin], floor[origin]) {
			return false
		}
	}
	return true
}

// holeKeys returns the keys of holes.
func holeKeys(holes []store.Hole) []store.Key {
	keys := make([]store.Key, len(holes))
	for i, h := range holes {
		keys[i] = h.Key
	}
	return keys
}

// refill fills the holes asked about with the responder's answers, and
// reports what it took and refused as a pull does.
func (s *Service) refill(ctx context.Context, p peer.ID, holes []store.Key, recs []crdt.Record, res *Result) error {
	ar, err := s.cfg.Store.Refill(ctx, holes, recs)
	if err != nil {
		return fmt.Errorf("antientropy refill: %w", err)
	}
	res.RecordsReceived += len(recs)
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
