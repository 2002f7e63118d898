package antientropy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

func TestVectorRoundTrip(t *testing.T) {
	long := crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen))
	for _, v := range []crdt.Vector{
		{},
		{"a": 1},
		{"a": 1, "b": 1 << 40, long: 7},
	} {
		got, err := decodeVector(appendVector(nil, v))
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %v: got %v, %v", v, got, err)
		}
	}
	// A zero entry says nothing and is not sent.
	if got, err := decodeVector(appendVector(nil, crdt.Vector{"a": 0, "b": 2})); err != nil || !reflect.DeepEqual(got, crdt.Vector{"b": 2}) {
		t.Errorf("zero entry: got %v, %v", got, err)
	}
}

func TestEncodeVectorLimits(t *testing.T) {
	big := crdt.Vector{}
	for i := range MaxVectorOrigins + 1 {
		big[crdt.NodeID(binary.AppendUvarint([]byte("o"), uint64(i)))] = 1
	}
	if _, err := encodeVector(big); err == nil {
		t.Error("encodeVector accepted more origins than the decoder allows")
	}
}

func TestDecodeVectorRejects(t *testing.T) {
	long := strings.Repeat("o", crdt.MaxOriginLen+1)
	cases := map[string][]byte{
		"empty payload":     nil,
		"duplicate origin":  {2, 1, 'a', 1, 1, 'a', 2},
		"empty origin":      {1, 0, 1},
		"zero seq":          {1, 1, 'a', 0},
		"origin too long":   append(append([]byte{1}, binary.AppendUvarint(nil, uint64(len(long)))...), append([]byte(long), 1)...),
		"count beyond data": {5, 1, 'a', 1},
		"too many origins":  binary.AppendUvarint(nil, MaxVectorOrigins+1),
		"trailing bytes":    {1, 1, 'a', 1, 9},
		"truncated seq":     {1, 1, 'a', 0x80},
	}
	for name, b := range cases {
		if v, err := decodeVector(b); !errors.Is(err, crdt.ErrCorrupt) {
			t.Errorf("%s: got %v, %v; want ErrCorrupt", name, v, err)
		}
	}
}

func TestHeldRoundTrip(t *testing.T) {
	h := crdt.Held{"a": {{Lo: 3, Hi: 4}, {Lo: 9, Hi: 9}}, "b": {{Lo: 1 << 40, Hi: 1<<40 + 7}}}
	if got, err := decodeHeld(appendHeld(nil, h)); err != nil || !reflect.DeepEqual(got, h) {
		t.Errorf("round trip: %v, %v", got, err)
	}
	// Past MaxHeldRuns the runs are cut, and what is sent still decodes.
	many := crdt.Held{}
	for i := range 3 {
		for j := range MaxHeldRuns / 2 {
			id := crdt.NodeID(fmt.Sprintf("o%d", i))
			many[id] = append(many[id], crdt.Span{Lo: uint64(2*j + 1), Hi: uint64(2*j + 1)})
		}
	}
	got, err := decodeHeld(appendHeld(nil, many))
	runs := 0
	for _, r := range got {
		runs += len(r)
	}
	if err != nil || runs != MaxHeldRuns {
		t.Errorf("cut held: %d runs, %v; want %d", runs, err, MaxHeldRuns)
	}
}

func TestDecodeHeldRejects(t *testing.T) {
	cases := map[string][]byte{
		"empty payload":    nil,
		"duplicate origin": {2, 1, 'a', 1, 1, 0, 1, 'a', 1, 5, 0},
		"empty origin":     {1, 0, 1, 1, 0},
		"no runs":          {1, 1, 'a', 0},
		"zero seq":         {1, 1, 'a', 1, 0, 0},
		"overlapping runs": {1, 1, 'a', 2, 1, 3, 0, 0},
		"seq overflow":     append([]byte{1, 1, 'a', 1}, append(binary.AppendUvarint(nil, math.MaxUint64), 1)...),
		"runs beyond data": {1, 1, 'a', 9, 1, 0},
		"too many origins": binary.AppendUvarint(nil, MaxHeldRuns+1),
		"trailing bytes":   {1, 1, 'a', 1, 1, 0, 7},
	}
	for name, b := range cases {
		if h, err := decodeHeld(b); !errors.Is(err, crdt.ErrCorrupt) {
			t.Errorf("%s: got %v, %v; want ErrCorrupt", name, h, err)
		}
	}
}

func TestBatchRoundTrip(t *testing.T) {
	recs := genRecords("origin-b", 1, 3, 32)
	recs[1].Deleted, recs[1].Value = true, nil
	frame := batchFrame(recs...)
	_, payload, err := readFrame(bufio.NewReader(bytes.NewReader(frame)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBatch(payload, nil)
	if err != nil || !reflect.DeepEqual(got, recs) {
		t.Errorf("round trip: got %+v, %v", got, err)
	}
	// Values must not alias the frame buffer, which is reused.
	clear(payload)
	if string(got[0].Value) != string(recs[0].Value) {
		t.Error("decoded value aliases the frame buffer")
	}
}

func TestDecodeBatchRejects(t *testing.T) {
	rec := crdt.AppendRecord(nil, genRecords("origin-b", 1, 1, 8)[0])
	cases := map[string][]byte{
		"empty payload":   nil,
		"zero records":    {0},
		"count lies":      append([]byte{2}, rec...),
		"too many":        binary.AppendUvarint(nil, MaxFrameRecords+1),
		"trailing bytes":  append(append([]byte{1}, rec...), 0),
		"truncated":       append([]byte{1}, rec[:len(rec)-1]...),
		"bad record":      append([]byte{1}, append([]byte{9}, rec[1:]...)...),
		"count overflows": {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for name, b := range cases {
		if recs, err := decodeBatch(b, nil); !errors.Is(err, crdt.ErrCorrupt) || len(recs) != 0 {
			t.Errorf("%s: got %d records, %v; want ErrCorrupt", name, len(recs), err)
		}
	}
}

func TestReadFrame(t *testing.T) {
	read := func(b []byte) (frameType, []byte, error) {
		return readFrame(bufio.NewReader(bytes.NewReader(b)), nil)
	}
	if _, _, err := read(nil); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	cases := map[string][]byte{
		"unknown type":        {0x42, 0},
		"truncated header":    {byte(frameBatch)},
		"truncated payload":   {byte(frameBatch), 5, 1, 2},
		"oversized batch":     appendHeader(nil, frameBatch, MaxFrameSize+1),
		"oversized error":     appendHeader(nil, frameError, 2+maxErrorMsg),
		"overlong length":     {byte(frameDone), 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
		"length overflows 64": {byte(frameDone), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for name, b := range cases {
		if _, _, err := read(b); !errors.Is(err, crdt.ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	typ, payload, err := read(frame(frameDone, []byte{0}))
	if err != nil || typ != frameDone || !bytes.Equal(payload, []byte{0}) {
		t.Errorf("valid frame: %v %v %v", typ, payload, err)
	}
}

func TestErrorFrame(t *testing.T) {
	long := strings.Repeat("é", maxErrorMsg) // cut mid-rune by the limit
	rerr, err := decodeError(appendError(nil, codeBusy, long))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rerr, ErrBusy) || len(rerr.Msg) > maxErrorMsg || !strings.HasPrefix(long, rerr.Msg) {
		t.Errorf("decoded %+v", rerr)
	}
	if rerr, err := decodeError([]byte{codeInternal, 0xff}); err != nil || errors.Is(rerr, ErrBusy) || !errors.Is(rerr, ErrRemote) {
		t.Errorf("invalid UTF-8 message: %+v, %v", rerr, err)
	}
}

// FuzzDecodeFrame feeds arbitrary bytes to the frame reader and every
// payload decoder: none may panic, every failure must wrap ErrCorrupt, and
// whatever decodes must survive a re-encoding unchanged.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(frame(frameVector, appendVector(nil, crdt.Vector{"a": 1, "b": 300})))
	f.Add(batchFrame(genRecords("origin-f", 1, 2, 16)...))
	f.Add(frame(frameError, appendError(nil, codeBusy, "busy")))
	f.Add(frame(frameHeld, appendHeld(nil, crdt.Held{"a": {{Lo: 3, Hi: 4}, {Lo: 9, Hi: 9}}})))
	f.Add(frame(frameHoles, appendKeys(nil, []store.Key{{NS: "tasks", Key: "k"}, {NS: "notes/work", Key: "ü"}})))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, payload, err := readFrame(bufio.NewReader(bytes.NewReader(data)), nil)
		if err != nil {
			if err != io.EOF && !errors.Is(err, crdt.ErrCorrupt) {
				t.Fatalf("readFrame: unexpected error %v", err)
			}
			return
		}
		switch typ {
		case frameVector, frameDone:
			v, err := decodeVector(payload)
			if err != nil {
				mustCorrupt(t, err)
				return
			}
			again, err := decodeVector(appendVector(nil, v))
			if err != nil || !reflect.DeepEqual(again, v) {
				t.Fatalf("vector %v re-decoded as %v, %v", v, again, err)
			}
		case frameBatch:
			recs, err := decodeBatch(payload, nil)
			if err != nil {
				mustCorrupt(t, err)
				return
			}
			_, again, err := readFrame(bufio.NewReader(bytes.NewReader(batchFrame(recs...))), nil)
			if err != nil {
				t.Fatalf("re-read batch: %v", err)
			}
			if got, err := decodeBatch(again, nil); err != nil || !reflect.DeepEqual(got, recs) {
				t.Fatalf("batch re-decoded as %v, %v", got, err)
			}
		case frameError:
			if _, err := decodeError(payload); err != nil {
				mustCorrupt(t, err)
			}
		case frameHoles, frameAbsent:
			keys, err := decodeKeys(payload)
			if err != nil {
				mustCorrupt(t, err)
				return
			}
			again, err := decodeKeys(appendKeys(nil, keys))
			if err != nil || !reflect.DeepEqual(again, keys) {
				t.Fatalf("holes %v re-decoded as %v, %v", keys, again, err)
			}
		case frameHeld:
			h, err := decodeHeld(payload)
			if err != nil {
				mustCorrupt(t, err)
				return
			}
			again, err := decodeHeld(appendHeld(nil, h))
			if err != nil || !reflect.DeepEqual(again, h) {
				t.Fatalf("held %v re-decoded as %v, %v", h, again, err)
			}
		}
	})
}

func mustCorrupt(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, crdt.ErrCorrupt) {
		t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
	}
}
