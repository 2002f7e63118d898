package crdt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Digest is an order-independent fingerprint of a replica's state: the
// lane-wise sum, mod 2^64, of a hash of every current record's
// (namespace, key, version, deleted). Two replicas holding the same records
// have equal digests whatever order the writes arrived in, and a change
// updates it in O(1): Remove the old record, Add the new.
type Digest [4]uint64

// Add folds r into the digest.
func (d *Digest) Add(r Record) {
	h := recordHash(r)
	for i := range d {
		d[i] += h[i]
	}
}

// Remove takes r back out of the digest.
func (d *Digest) Remove(r Record) {
	h := recordHash(r)
	for i := range d {
		d[i] -= h[i]
	}
}

// String renders the digest as hex.
func (d Digest) String() string { return hex.EncodeToString(d.Bytes()) }

// Bytes returns the 32-byte big-endian form.
func (d Digest) Bytes() []byte {
	b := make([]byte, 32)
	for i, v := range d {
		binary.BigEndian.PutUint64(b[i*8:], v)
	}
	return b
}

// DigestFromBytes parses the form produced by Bytes.
func DigestFromBytes(b []byte) (Digest, bool) {
	var d Digest
	if len(b) != 32 {
		return d, false
	}
	for i := range d {
		d[i] = binary.BigEndian.Uint64(b[i*8:])
	}
	return d, true
}

func recordHash(r Record) [4]uint64 {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	writeField := func(s string) {
		n := binary.PutUvarint(buf[:], uint64(len(s)))
		h.Write(buf[:n])
		h.Write([]byte(s))
	}
	writeField(r.NS)
	writeField(r.Key)
	writeField(string(r.Version.Origin))
	var tail [17]byte
	binary.BigEndian.PutUint64(tail[0:], uint64(r.Version.HLC))
	binary.BigEndian.PutUint64(tail[8:], r.Version.Seq)
	if r.Deleted {
		tail[16] = 1
	}
	h.Write(tail[:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var out [4]uint64
	for i := range out {
		out[i] = binary.BigEndian.Uint64(sum[i*8:])
	}
	return out
}
