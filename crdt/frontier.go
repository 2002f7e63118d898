package crdt

import (
	"slices"
	"sort"
)

// maxSpans bounds how many runs of out-of-order seqs a Frontier remembers
// per origin. Seqs arrive mostly in runs (a burst reordered by the network
// is a few long runs), so runs rather than single seqs are what is bounded.
// Past the bound a seq that would start a new run is not remembered:
// anti-entropy re-delivers whatever the vector does not cover, so forgetting
// costs bandwidth, never correctness.
const maxSpans = 4096

// Span is a run of seqs, Lo through Hi.
type Span struct{ Lo, Hi uint64 }

// Frontier turns the writes a replica observes, in any order, into a Vector
// of contiguous seqs. Writes seen beyond a gap are held until the gap fills.
// It is not safe for concurrent use.
type Frontier struct {
	vec Vector
	// ahead holds, per origin, sorted, disjoint, non-adjacent runs of
	// seqs above vec[origin]+1.
	ahead Held
}

// NewFrontier starts from a persisted vector.
func NewFrontier(v Vector) *Frontier {
	return &Frontier{vec: v.Clone(), ahead: Held{}}
}

// Observe records that write (origin, seq) is held. It reports whether the
// origin's contiguous seq advanced, and whether the write lies beyond a gap,
// which means some earlier write of that origin has not arrived yet.
func (f *Frontier) Observe(origin NodeID, seq uint64) (advanced, gap bool) {
	cur := f.vec[origin]
	switch {
	case seq <= cur:
		return false, false
	case seq == cur+1:
		f.vec[origin] = seq
		f.absorb(origin)
		return true, false
	default:
		f.ahead[origin] = hold(f.ahead[origin], seq)
		return false, true
	}
}

// hold adds seq to the runs, merging with its neighbours.
func hold(runs []Span, seq uint64) []Span {
	// i is the first run that ends at or after seq-1.
	i := sort.Search(len(runs), func(i int) bool { return runs[i].Hi+1 >= seq })
	if i < len(runs) && runs[i].Lo <= seq && seq <= runs[i].Hi {
		return runs // already held
	}
	joinsLeft := i < len(runs) && runs[i].Hi+1 == seq
	joinsRight := false
	if joinsLeft {
		joinsRight = i+1 < len(runs) && runs[i+1].Lo == seq+1
	} else {
		joinsRight = i < len(runs) && runs[i].Lo == seq+1
	}
	switch {
	case joinsLeft && joinsRight:
		runs[i].Hi = runs[i+1].Hi
		return append(runs[:i+1], runs[i+2:]...)
	case joinsLeft:
		runs[i].Hi = seq
		return runs
	case joinsRight:
		runs[i].Lo = seq
		return runs
	case len(runs) >= maxSpans:
		return runs
	default:
		runs = append(runs, Span{})
		copy(runs[i+1:], runs[i:])
		runs[i] = Span{seq, seq}
		return runs
	}
}

// Join raises the frontier to cover everything o covers; a peer's vector
// may be joined once all the records above ours in its snapshot are held.
func (f *Frontier) Join(o Vector) bool {
	changed := false
	for id, seq := range o {
		if seq > f.vec[id] {
			f.vec[id] = seq
			f.absorb(id)
			changed = true
		}
	}
	return changed
}

// Seen reports whether write (origin, seq) has been observed: it is covered
// by the contiguous vector or held beyond a gap.
func (f *Frontier) Seen(origin NodeID, seq uint64) bool {
	return seq <= f.vec[origin] || Held(f.ahead).Has(origin, seq)
}

// Get returns the contiguous seq for origin.
func (f *Frontier) Get(origin NodeID) uint64 { return f.vec[origin] }

// Vector returns a copy of the contiguous vector.
func (f *Frontier) Vector() Vector { return f.vec.Clone() }

// Gaps reports whether any origin has writes held beyond a gap.
func (f *Frontier) Gaps() bool { return len(f.ahead) > 0 }

// Held returns a copy of the writes held beyond gaps, at most limit runs
// in all; nil if there are none. An origin's runs past the limit are left
// out, which only means a peer resends them.
func (f *Frontier) Held(limit int) Held {
	if len(f.ahead) == 0 {
		return nil
	}
	h := make(Held, len(f.ahead))
	for id, runs := range f.ahead {
		if limit <= 0 {
			break
		}
		runs = runs[:min(len(runs), limit)]
		h[id] = slices.Clone(runs)
		limit -= len(runs)
	}
	return h
}

// absorb drops runs the contiguous seq now covers and extends it through a
// run that starts right after it.
func (f *Frontier) absorb(origin NodeID) {
	runs := f.ahead[origin]
	cur := f.vec[origin]
	i := 0
	for i < len(runs) && runs[i].Lo <= cur+1 {
		cur = max(cur, runs[i].Hi)
		i++
	}
	f.vec[origin] = cur
	if runs = runs[i:]; len(runs) == 0 {
		delete(f.ahead, origin)
	} else {
		f.ahead[origin] = runs
	}
}
