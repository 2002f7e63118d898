package crdt

import (
	"cmp"
	"fmt"
)

// NodeID names the device that wrote a version: its libp2p peer ID in
// string form.
type NodeID string

// Version stamps one write. Ordering is by (HLC, Origin); Seq is the
// origin's own write counter and only tracks what has been seen.
type Version struct {
	HLC    Timestamp
	Origin NodeID
	Seq    uint64
}

// Compare orders versions by (HLC, Origin), the last-writer-wins order. It
// returns -1, 0 or +1.
func (v Version) Compare(o Version) int {
	if c := cmp.Compare(v.HLC, o.HLC); c != 0 {
		return c
	}
	return cmp.Compare(v.Origin, o.Origin)
}

// IsZero reports whether v is the zero Version, which no write carries.
func (v Version) IsZero() bool { return v == Version{} }

func (v Version) String() string {
	return fmt.Sprintf("%s@%s#%d", v.HLC, v.Origin, v.Seq)
}
