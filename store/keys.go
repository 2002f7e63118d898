package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Key layout. Every key starts with a one-byte table tag.
//
//	r ns 0x00 key            -> feedPos(8) ∥ crdt record encoding
//	o len(origin) origin seq -> ns 0x00 key   (one entry per current record)
//	f pos                    -> ns 0x00 key   (change feed, one entry per current record)
//	v origin                 -> contiguous seq (8)
//	m name                   -> metadata (clock high-water, digest, counters, feed head)
//	h ns 0x00 key            -> cut(8) ∥ gen(8) ∥ origin (a hole to refill, see DropAfter)
const (
	tagRecord = 'r'
	tagOrigin = 'o'
	tagFeed   = 'f'
	tagVector = 'v'
	tagMeta   = 'm'
	tagHole   = 'h'
)

var (
	metaHLC      = []byte{tagMeta, 'h'}
	metaDigest   = []byte{tagMeta, 'd'}
	metaFeedHead = []byte{tagMeta, 'f'}
	metaLive     = []byte{tagMeta, 'l'}
	metaDead     = []byte{tagMeta, 't'}
)

// nsKey joins a namespace and key; neither may contain NUL.
func nsKey(ns, key string) []byte {
	b := make([]byte, 0, len(ns)+1+len(key))
	b = append(b, ns...)
	b = append(b, 0)
	return append(b, key...)
}

func splitNSKey(b []byte) (ns, key string, err error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", "", fmt.Errorf("%w: index entry without separator", ErrCorrupt)
	}
	return string(b[:i]), string(b[i+1:]), nil
}

func recordKey(ns, key string) []byte {
	b := make([]byte, 0, 2+len(ns)+len(key))
	b = append(b, tagRecord)
	b = append(b, ns...)
	b = append(b, 0)
	return append(b, key...)
}

// recordPrefix is the prefix of every record key in ns whose key starts with
// keyPrefix.
func recordPrefix(ns, keyPrefix string) []byte {
	return append(recordKey(ns, ""), keyPrefix...)
}

func originPrefix(origin crdt.NodeID) []byte {
	b := make([]byte, 0, 2+len(origin)+8)
	b = append(b, tagOrigin, byte(len(origin)))
	return append(b, origin...)
}

func originKey(origin crdt.NodeID, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(originPrefix(origin), seq)
}

// parseOriginKey splits an 'o' key into its origin and seq.
func parseOriginKey(k []byte) (crdt.NodeID, uint64, error) {
	if len(k) < 2 || k[0] != tagOrigin || len(k) != 2+int(k[1])+8 {
		return "", 0, fmt.Errorf("%w: bad origin index key", ErrCorrupt)
	}
	n := int(k[1])
	return crdt.NodeID(k[2 : 2+n]), binary.BigEndian.Uint64(k[2+n:]), nil
}

func holeKey(ref []byte) []byte {
	return append([]byte{tagHole}, ref...)
}

func feedKey(pos uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tagFeed}, pos)
}

func vectorKey(origin crdt.NodeID) []byte {
	return append([]byte{tagVector}, origin...)
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func readU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: expected 8 bytes, got %d", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// storedRecord is a record as kept under its 'r' key, with the position of
// its change-feed entry so that superseding it can remove that entry.
type storedRecord struct {
	rec     crdt.Record
	feedPos uint64
}

func encodeStored(s storedRecord) []byte {
	b := make([]byte, 8, 8+crdt.EncodedSize(s.rec))
	binary.BigEndian.PutUint64(b, s.feedPos)
	return crdt.AppendRecord(b, s.rec)
}

// itemStored decodes the stored record an item of the record table holds.
func itemStored(item *badger.Item) (sr storedRecord, err error) {
	err = item.Value(func(b []byte) (err error) {
		sr, err = decodeStored(b)
		return err
	})
	return sr, err
}

func decodeStored(b []byte) (storedRecord, error) {
	if len(b) < 8 {
		return storedRecord{}, fmt.Errorf("%w: short record", ErrCorrupt)
	}
	rec, n, err := crdt.DecodeRecord(b[8:])
	if err != nil {
		return storedRecord{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if n != len(b)-8 {
		return storedRecord{}, fmt.Errorf("%w: trailing bytes after record", ErrCorrupt)
	}
	return storedRecord{rec: rec, feedPos: binary.BigEndian.Uint64(b)}, nil
}
