package crdt

import "sort"

// Held is, per origin, what a replica holds above its contiguous Vector
// entry: sorted, disjoint runs of seqs, each beyond a gap. A vector alone
// says "send me everything above"; with Held, a peer can skip the writes
// that already arrived out of order and send only what is missing.
type Held map[NodeID][]Span

// Has reports whether write (origin, seq) lies in one of origin's runs.
func (h Held) Has(origin NodeID, seq uint64) bool {
	runs := h[origin]
	i := sort.Search(len(runs), func(i int) bool { return runs[i].Hi >= seq })
	return i < len(runs) && runs[i].Lo <= seq
}
