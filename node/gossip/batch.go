package gossip

import (
	"encoding/binary"
	"fmt"

	"github.com/syncnode/syncnode/crdt"
)

// batchFormat is the first byte of every gossip message, so the encoding can
// evolve without misreading old messages.
const batchFormat = 1

// MaxBatchRecords bounds the records in one message, on both sides: a
// publisher never packs more, and a receiver rejects a message claiming more.
const MaxBatchRecords = 1 << 16

// minRecordSize is the smallest encoding of any record: every field empty
// or zero. DecodeBatch uses it to refuse counts the message cannot hold
// before allocating for them.
var minRecordSize = crdt.EncodedSize(crdt.Record{})

// EncodeBatch encodes recs as one gossip message: a format byte, the record
// count as a uvarint, then each record in crdt.AppendRecord form.
func EncodeBatch(recs []crdt.Record) []byte {
	size := batchHeaderSize(len(recs))
	for _, r := range recs {
		size += crdt.EncodedSize(r)
	}
	b := make([]byte, 0, size)
	b = append(b, batchFormat)
	b = binary.AppendUvarint(b, uint64(len(recs)))
	for _, r := range recs {
		b = crdt.AppendRecord(b, r)
	}
	return b
}

// DecodeBatch decodes a message produced by EncodeBatch. It refuses more than
// maxRecords records, and any count the remaining bytes could not hold,
// before allocating, so hostile input cannot make it allocate much more than
// it was given. Every error wraps crdt.ErrCorrupt. The records it returns do
// not alias b.
func DecodeBatch(b []byte, maxRecords int) ([]crdt.Record, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("gossip decode: %w: empty message", crdt.ErrCorrupt)
	}
	if b[0] != batchFormat {
		return nil, fmt.Errorf("gossip decode: %w: unknown format %d", crdt.ErrCorrupt, b[0])
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 {
		return nil, fmt.Errorf("gossip decode: %w: bad record count", crdt.ErrCorrupt)
	}
	rest := b[1+k:]
	if n > uint64(max(maxRecords, 0)) {
		return nil, fmt.Errorf("gossip decode: %w: %d records exceed the limit of %d", crdt.ErrCorrupt, n, maxRecords)
	}
	if n > uint64(len(rest)/minRecordSize) {
		return nil, fmt.Errorf("gossip decode: %w: %d records cannot fit in %d bytes", crdt.ErrCorrupt, n, len(rest))
	}
	recs := make([]crdt.Record, 0, n)
	for i := range n {
		r, used, err := crdt.DecodeRecord(rest)
		if err != nil {
			return nil, fmt.Errorf("gossip decode: record %d: %w", i, err)
		}
		recs = append(recs, r)
		rest = rest[used:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("gossip decode: %w: %d trailing bytes", crdt.ErrCorrupt, len(rest))
	}
	return recs, nil
}

// batchHeaderSize is the size of the format byte and record count.
func batchHeaderSize(n int) int {
	var buf [binary.MaxVarintLen64]byte
	return 1 + binary.PutUvarint(buf[:], uint64(n))
}
