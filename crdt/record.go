package crdt

import "bytes"

// Record is the replicated state of one (namespace, key): a JSON value or a
// tombstone, and the version of the write that produced it.
type Record struct {
	NS      string
	Key     string
	Value   []byte // JSON; nil for a tombstone
	Deleted bool
	Version Version
	// Sig is the origin device's signature over everything else (see
	// SigningBytes); nil on records written before signing.
	Sig []byte
}

// Merge returns the record that wins between a and b under last-writer-wins
// by (HLC, Origin), tombstones included. It is commutative, associative and
// idempotent for any inputs: versions that tie on (HLC, Origin) are broken by
// Seq and then content, which only matters for inputs no honest origin
// produces, but keeps every replica's choice identical.
func Merge(a, b Record) Record {
	if compareRecords(a, b) >= 0 {
		return a
	}
	return b
}

// Supersedes reports whether incoming would replace current under Merge.
func Supersedes(incoming, current Record) bool {
	return compareRecords(incoming, current) > 0
}

func compareRecords(a, b Record) int {
	if c := a.Version.Compare(b.Version); c != 0 {
		return c
	}
	if a.Version.Seq != b.Version.Seq {
		if a.Version.Seq > b.Version.Seq {
			return 1
		}
		return -1
	}
	if a.Deleted != b.Deleted {
		if a.Deleted {
			return 1
		}
		return -1
	}
	return bytes.Compare(a.Value, b.Value)
}
