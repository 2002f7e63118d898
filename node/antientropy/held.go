package antientropy

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/syncnode/syncnode/crdt"
)

// MaxHeldRuns bounds the runs of a held frame, all origins together.
const MaxHeldRuns = 4096

// minHeldRun is the smallest encoding of a run: two one-byte varints.
const minHeldRun = 2

// appendHeld appends h's encoding: a uvarint count of origins, then each
// origin (length-prefixed, in origin order) with a uvarint count of runs,
// and each run as two uvarints: its distance from the previous run's end
// (from zero for the first) and its length less one. Runs past
// MaxHeldRuns are left out: the responder then resends them, which costs
// bandwidth, never correctness.
func appendHeld(dst []byte, h crdt.Held) []byte {
	origins := make([]crdt.NodeID, 0, len(h))
	for id, runs := range h {
		if len(runs) > 0 {
			origins = append(origins, id)
		}
	}
	slices.Sort(origins)
	var body []byte
	kept, budget := 0, MaxHeldRuns
	for _, id := range origins {
		if budget == 0 {
			break
		}
		runs := h[id][:min(len(h[id]), budget)]
		budget -= len(runs)
		kept++
		body = binary.AppendUvarint(body, uint64(len(id)))
		body = append(body, id...)
		body = binary.AppendUvarint(body, uint64(len(runs)))
		prev := uint64(0)
		for _, r := range runs {
			body = binary.AppendUvarint(body, r.Lo-prev)
			body = binary.AppendUvarint(body, r.Hi-r.Lo)
			prev = r.Hi
		}
	}
	return append(binary.AppendUvarint(dst, uint64(kept)), body...)
}

// decodeHeld parses a held frame's payload. Each origin's runs must be
// sorted, disjoint and within seq range; origins may not repeat.
func decodeHeld(b []byte) (crdt.Held, error) {
	p := parser{b: b}
	n := p.uvarint()
	if p.err == nil && (n > MaxHeldRuns || n > uint64(len(p.b)/minVectorEntry)) {
		return nil, corrupt("held runs of %d origins in %d bytes", n, len(b))
	}
	h := make(crdt.Held, n)
	total := uint64(0)
	for i := uint64(0); i < n && p.err == nil; i++ {
		id := crdt.NodeID(p.bytes(crdt.MaxOriginLen))
		count := p.uvarint()
		if p.err != nil {
			break
		}
		total += count
		switch _, dup := h[id]; {
		case id == "" || count == 0:
			return nil, corrupt("held entry %d is empty", i)
		case dup:
			return nil, corrupt("held runs repeat origin %q", id)
		case total > MaxHeldRuns || count > uint64(len(p.b)/minHeldRun):
			return nil, corrupt("%d held runs in %d bytes", total, len(b))
		}
		runs := make([]crdt.Span, 0, count)
		prev := uint64(0)
		for j := uint64(0); j < count && p.err == nil; j++ {
			gap, length := p.uvarint(), p.uvarint()
			// Each run starts past the previous one's end, so a zero
			// distance is malformed, and no seq may wrap around.
			if p.err == nil && (gap == 0 || gap > math.MaxUint64-prev || length > math.MaxUint64-prev-gap) {
				return nil, corrupt("held run %d of %q out of order or range", j, id)
			}
			lo := prev + gap
			runs = append(runs, crdt.Span{Lo: lo, Hi: lo + length})
			prev = lo + length
		}
		h[id] = runs
	}
	if err := p.end(); err != nil {
		return nil, fmt.Errorf("held: %w", err)
	}
	return h, nil
}
