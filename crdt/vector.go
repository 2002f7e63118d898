package crdt

import "maps"

// Vector maps each origin to the highest seq of its writes that a replica
// has seen contiguously (every seq from 1 up to it).
type Vector map[NodeID]uint64

// Get returns the entry for origin, zero if absent.
func (v Vector) Get(origin NodeID) uint64 { return v[origin] }

// Covers reports whether the write (origin, seq) is accounted for by v.
func (v Vector) Covers(origin NodeID, seq uint64) bool { return seq <= v[origin] }

// Join raises every entry of v to at least o's, in place, and reports
// whether anything changed. v must be non-nil (Clone of nil is).
func (v Vector) Join(o Vector) bool {
	changed := false
	for id, seq := range o {
		if seq > v[id] {
			v[id] = seq
			changed = true
		}
	}
	return changed
}

// Dominates reports whether v covers every write o covers.
func (v Vector) Dominates(o Vector) bool {
	for id, seq := range o {
		if v[id] < seq {
			return false
		}
	}
	return true
}

// Clone returns an independent copy.
func (v Vector) Clone() Vector {
	if v == nil {
		return Vector{}
	}
	return maps.Clone(v)
}
