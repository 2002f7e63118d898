package crdt

// maxAhead bounds how many out-of-order seqs a Frontier remembers per origin.
// Past it newly arriving seqs are not remembered: anti-entropy re-delivers
// whatever the vector does not cover, so forgetting costs bandwidth, never
// correctness.
const maxAhead = 4096

// Frontier turns the writes a replica observes, in any order, into a Vector
// of contiguous seqs. Writes seen beyond a gap are held until the gap fills.
// It is not safe for concurrent use.
type Frontier struct {
	vec   Vector
	ahead map[NodeID]map[uint64]struct{}
}

// NewFrontier starts from a persisted vector.
func NewFrontier(v Vector) *Frontier {
	return &Frontier{vec: v.Clone(), ahead: map[NodeID]map[uint64]struct{}{}}
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
		set := f.ahead[origin]
		if set == nil {
			set = map[uint64]struct{}{}
			f.ahead[origin] = set
		}
		if len(set) < maxAhead {
			set[seq] = struct{}{}
		}
		return false, true
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

// Get returns the contiguous seq for origin.
func (f *Frontier) Get(origin NodeID) uint64 { return f.vec[origin] }

// Vector returns a copy of the contiguous vector.
func (f *Frontier) Vector() Vector { return f.vec.Clone() }

// Gaps reports whether any origin has writes held beyond a gap.
func (f *Frontier) Gaps() bool { return len(f.ahead) > 0 }

func (f *Frontier) absorb(origin NodeID) {
	set := f.ahead[origin]
	cur := f.vec[origin]
	for s := range set {
		if s <= cur {
			delete(set, s)
		}
	}
	for {
		if _, ok := set[cur+1]; !ok {
			break
		}
		delete(set, cur+1)
		cur++
	}
	f.vec[origin] = cur
	if len(set) == 0 {
		delete(f.ahead, origin)
	}
}
