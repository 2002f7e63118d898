package crdt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// recordFormat is the first byte of every encoded record, so the encoding
// can evolve without misreading old data.
const recordFormat = 1

// Flags. flagSigned marks a record followed by its origin's signature.
const (
	flagDeleted = 1
	flagSigned  = 2
)

// MaxSigLen bounds a record's signature.
const MaxSigLen = 256

// signingLabel starts the bytes a record's signature covers, so they can
// never be taken for another message of the same key.
const signingLabel = "syncnode/record/v1\x00"

// SigningBytes returns what r's origin signs: a label and r's encoding
// without its signature.
func SigningBytes(r Record) []byte {
	r.Sig = nil
	return AppendRecord([]byte(signingLabel), r)
}

// ErrCorrupt is wrapped by every decoding failure.
var ErrCorrupt = errors.New("corrupt record encoding")

// AppendRecord appends the binary encoding of r to dst. The same encoding is
// used on disk and on the wire.
func AppendRecord(dst []byte, r Record) []byte {
	dst = append(dst, recordFormat)
	dst = appendString(dst, r.NS)
	dst = appendString(dst, r.Key)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Version.HLC))
	dst = appendString(dst, r.Version.Origin)
	dst = binary.AppendUvarint(dst, r.Version.Seq)
	var flags byte
	if r.Deleted {
		flags |= flagDeleted
	}
	if len(r.Sig) > 0 {
		flags |= flagSigned
	}
	dst = append(dst, flags)
	dst = appendString(dst, r.Value)
	if len(r.Sig) > 0 {
		dst = appendString(dst, r.Sig)
	}
	return dst
}

// EncodedSize returns len(AppendRecord(nil, r)) without encoding.
func EncodedSize(r Record) int {
	n := 1 + strSize(r.NS) + strSize(r.Key) + 8 + strSize(r.Version.Origin) +
		uvarintSize(r.Version.Seq) + 1 + strSize(r.Value)
	if len(r.Sig) > 0 {
		n += strSize(r.Sig)
	}
	return n
}

// DecodeRecord decodes one record from the front of b and returns it with the
// number of bytes consumed. It checks lengths against the record limits
// before allocating, so hostile input cannot make it allocate more than it
// was given. The returned Value does not alias b.
func DecodeRecord(b []byte) (Record, int, error) {
	d := decoder{b: b}
	if v := d.byte(); v != recordFormat {
		if d.err != nil {
			return Record{}, 0, d.err
		}
		return Record{}, 0, fmt.Errorf("%w: unknown format %d", ErrCorrupt, v)
	}
	var r Record
	r.NS = d.string(MaxNamespaceLen)
	r.Key = d.string(MaxKeyLen)
	r.Version.HLC = Timestamp(d.uint64())
	r.Version.Origin = NodeID(d.string(MaxOriginLen))
	r.Version.Seq = d.uvarint()
	flags := d.byte()
	if flags&^(flagDeleted|flagSigned) != 0 {
		d.fail("unknown flags")
	}
	r.Deleted = flags&flagDeleted != 0
	if v := d.bytes(MaxStoredValueSize); len(v) > 0 {
		r.Value = append([]byte(nil), v...)
	}
	if flags&flagSigned != 0 {
		sig := d.bytes(MaxSigLen)
		if len(sig) == 0 && d.err == nil {
			d.fail("empty signature")
		}
		r.Sig = append([]byte(nil), sig...)
	}
	if d.err != nil {
		return Record{}, 0, d.err
	}
	return r, d.off, nil
}

// appendString appends s with its length. It takes bytes as they are:
// converting a 1 MiB value to a string to append it would copy it twice.
func appendString[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func strSize[T ~string | ~[]byte](s T) int { return uvarintSize(uint64(len(s))) + len(s) }

func uvarintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decoder reads fields from b, remembering the first error so call sites
// stay linear.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, msg, d.off)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) uint64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) bytes(limit int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) {
		d.fail("field exceeds limit")
		return nil
	}
	if uint64(len(d.b)-d.off) < n {
		d.fail("truncated")
		return nil
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

func (d *decoder) string(limit int) string { return string(d.bytes(limit)) }
