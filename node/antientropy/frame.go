package antientropy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/syncnode/syncnode/crdt"
)

// A frame is [type byte][uvarint length][payload].
type frameType byte

const (
	// frameVector carries the initiator's version vector.
	frameVector frameType = 1
	// frameBatch carries a uvarint count and that many encoded records.
	frameBatch frameType = 2
	// frameDone ends a session with the vector of the responder's snapshot.
	frameDone frameType = 3
	// frameError carries a code byte and a short message.
	frameError frameType = 4
	// frameHeld, optional after frameVector, carries the runs of writes
	// the initiator holds above its vector (see appendHeld).
	frameHeld frameType = 5
	// frameHoles, optional after frameVector, names keys the initiator
	// wants refilled (see refill.go).
	frameHoles frameType = 6
	// frameRefill, sent by the responder before frameDone if asked,
	// carries, batch-encoded, its current records for those keys.
	frameRefill frameType = 7
	// frameAbsent, sent after the refills, names the keys asked about
	// that the responder holds no record for, nor has as holes itself.
	frameAbsent frameType = 8
)

func (t frameType) String() string {
	switch t {
	case frameVector:
		return "vector"
	case frameBatch:
		return "batch"
	case frameDone:
		return "done"
	case frameError:
		return "error"
	case frameHeld:
		return "held"
	case frameHoles:
		return "holes"
	case frameRefill:
		return "refill"
	case frameAbsent:
		return "absent"
	}
	return fmt.Sprintf("type-%d", byte(t))
}

// Wire limits. Every decoder checks them before it allocates.
const (
	// MaxFrameSize bounds a frame's payload; it exceeds the largest single
	// record, so every record fits in one batch.
	MaxFrameSize = 4 << 20
	// MaxVectorOrigins bounds the entries of a vector frame.
	MaxVectorOrigins = 100_000
	// MaxFrameRecords bounds the records of one batch frame.
	MaxFrameRecords = 8192
	// maxErrorMsg bounds an error frame's message.
	maxErrorMsg = 256
	// minRecordSize is the smallest encoding crdt.AppendRecord produces:
	// format, three empty strings' lengths, HLC, seq, flags, value length.
	minRecordSize = 1 + 1 + 1 + 8 + 1 + 1 + 1 + 1
	// minVectorEntry is an origin of one byte with its length and a seq.
	minVectorEntry = 3
)

// maxPayload returns the largest payload a frame of type t may carry, or
// -1 for an unknown type.
func maxPayload(t frameType) int {
	switch t {
	case frameVector, frameDone, frameBatch, frameHeld, frameHoles, frameRefill, frameAbsent:
		return MaxFrameSize
	case frameError:
		return 1 + maxErrorMsg
	}
	return -1
}

// corrupt wraps crdt.ErrCorrupt with what was wrong.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{crdt.ErrCorrupt}, args...)...)
}

// readFrame reads one frame from r into buf, growing it as needed, and
// returns the type and payload. A stream that ends cleanly before the type
// byte yields io.EOF; one that ends inside a frame yields crdt.ErrCorrupt.
// Transport errors are returned as they are.
func readFrame(r *bufio.Reader, buf []byte) (frameType, []byte, error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, buf, err
	}
	t := frameType(b)
	limit := maxPayload(t)
	if limit < 0 {
		return 0, buf, corrupt("unknown frame type %d", b)
	}
	n, err := readLength(r)
	switch {
	case errors.Is(err, io.EOF):
		return 0, buf, corrupt("truncated %s frame header", t)
	case err != nil:
		return 0, buf, err
	}
	if n > uint64(limit) {
		return 0, buf, corrupt("%s frame of %d bytes exceeds the %d-byte limit", t, n, limit)
	}
	buf = slices.Grow(buf[:0], int(n))[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, buf, corrupt("truncated %s frame", t)
		}
		return 0, buf, err
	}
	return t, buf, nil
}

// readLength reads a frame's uvarint length. Lengths are bounded far below
// 2^35, so a varint longer than five bytes is corrupt, not merely large.
func readLength(r io.ByteReader) (uint64, error) {
	var v uint64
	for i := range 5 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, corrupt("frame length varint too long")
}

// appendHeader appends a frame header for a payload of n bytes.
func appendHeader(dst []byte, t frameType, n int) []byte {
	return binary.AppendUvarint(append(dst, byte(t)), uint64(n))
}

// appendVector appends v's encoding: a uvarint count, then each origin
// (length-prefixed) with its seq, in origin order. Zero entries carry no
// information and are left out.
func appendVector(dst []byte, v crdt.Vector) []byte {
	origins := make([]crdt.NodeID, 0, len(v))
	for id, seq := range v {
		if seq > 0 {
			origins = append(origins, id)
		}
	}
	slices.Sort(origins)
	dst = binary.AppendUvarint(dst, uint64(len(origins)))
	for _, id := range origins {
		dst = binary.AppendUvarint(dst, uint64(len(id)))
		dst = append(dst, id...)
		dst = binary.AppendUvarint(dst, v[id])
	}
	return dst
}

// encodeVector is appendVector for a vector about to be sent, checked
// against the limits the receiving decoder enforces.
func encodeVector(v crdt.Vector) ([]byte, error) {
	if len(v) > MaxVectorOrigins {
		return nil, fmt.Errorf("vector of %d origins exceeds the limit of %d", len(v), MaxVectorOrigins)
	}
	b := appendVector(nil, v)
	if len(b) > MaxFrameSize {
		return nil, fmt.Errorf("vector of %d bytes exceeds the frame limit", len(b))
	}
	return b, nil
}

// decodeVector parses the payload of a vector or done frame.
func decodeVector(b []byte) (crdt.Vector, error) {
	p := parser{b: b}
	n := p.uvarint()
	if p.err == nil && (n > MaxVectorOrigins || n > uint64(len(p.b)/minVectorEntry)) {
		return nil, corrupt("vector of %d origins in %d bytes", n, len(b))
	}
	v := make(crdt.Vector, n)
	for i := uint64(0); i < n && p.err == nil; i++ {
		id := crdt.NodeID(p.bytes(crdt.MaxOriginLen))
		seq := p.uvarint()
		if p.err != nil {
			break
		}
		if id == "" || seq == 0 {
			return nil, corrupt("vector entry %d is empty", i)
		}
		if _, dup := v[id]; dup {
			return nil, corrupt("vector repeats origin %q", id)
		}
		v[id] = seq
	}
	if err := p.end(); err != nil {
		return nil, fmt.Errorf("vector: %w", err)
	}
	return v, nil
}

// appendBatchCount appends the count that starts a batch payload.
func appendBatchCount(dst []byte, n int) []byte {
	return binary.AppendUvarint(dst, uint64(n))
}

// decodeBatch parses a batch payload into dst[:0]. The records' values do
// not alias b. Records are decoded, not validated: the store validates each
// one and rejects bad records individually.
func decodeBatch(b []byte, dst []crdt.Record) ([]crdt.Record, error) {
	dst = dst[:0]
	p := parser{b: b}
	n := p.uvarint()
	if p.err != nil {
		return dst, fmt.Errorf("batch: %w", p.err)
	}
	if n == 0 || n > MaxFrameRecords || n > uint64(len(p.b)/minRecordSize) {
		return dst, corrupt("batch of %d records in %d bytes", n, len(b))
	}
	dst = slices.Grow(dst, int(n))
	for i := uint64(0); i < n; i++ {
		rec, used, err := crdt.DecodeRecord(p.b)
		if err != nil {
			return dst[:0], fmt.Errorf("batch record %d: %w", i, err)
		}
		p.b = p.b[used:]
		dst = append(dst, rec)
	}
	if len(p.b) != 0 {
		return dst[:0], corrupt("%d bytes after batch", len(p.b))
	}
	return dst, nil
}

// appendError appends an error payload, cutting msg to the frame's limit.
func appendError(dst []byte, code byte, msg string) []byte {
	if len(msg) > maxErrorMsg {
		msg = strings.ToValidUTF8(msg[:maxErrorMsg], "")
	}
	return append(append(dst, code), msg...)
}

// decodeError parses an error payload.
func decodeError(b []byte) (*RemoteError, error) {
	if len(b) == 0 || len(b) > 1+maxErrorMsg {
		return nil, corrupt("error frame of %d bytes", len(b))
	}
	msg := string(b[1:])
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "\uFFFD")
	}
	return &RemoteError{Code: b[0], Msg: msg}, nil
}

// parser reads fields from the front of b, remembering the first error.
type parser struct {
	b   []byte
	err error
}

func (p *parser) uvarint() uint64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Uvarint(p.b)
	if n <= 0 {
		p.err = corrupt("bad varint")
		return 0
	}
	p.b = p.b[n:]
	return v
}

func (p *parser) bytes(limit int) []byte {
	n := p.uvarint()
	if p.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(p.b)) {
		p.err = corrupt("field of %d bytes", n)
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

// end reports the first error, or trailing bytes.
func (p *parser) end() error {
	if p.err == nil && len(p.b) != 0 {
		p.err = corrupt("%d trailing bytes", len(p.b))
	}
	return p.err
}
