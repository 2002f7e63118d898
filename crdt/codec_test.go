package crdt_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

// genBytesString draws arbitrary bytes, not just valid UTF-8: the codec
// carries whatever it is given and validation is a separate step.
func genBytesString(maxLen int) *rapid.Generator[string] {
	return rapid.Map(rapid.SliceOfN(rapid.Byte(), 0, maxLen), func(b []byte) string { return string(b) })
}

// genEncodable draws any record within the decoder's size limits.
func genEncodable() *rapid.Generator[crdt.Record] {
	return rapid.Custom(func(t *rapid.T) crdt.Record {
		r := crdt.Record{
			NS:  genBytesString(crdt.MaxNamespaceLen).Draw(t, "ns"),
			Key: genBytesString(crdt.MaxKeyLen).Draw(t, "key"),
			Version: crdt.Version{
				HLC:    crdt.Timestamp(rapid.Uint64().Draw(t, "hlc")),
				Origin: crdt.NodeID(genBytesString(crdt.MaxOriginLen).Draw(t, "origin")),
				Seq:    rapid.Uint64().Draw(t, "seq"),
			},
			Deleted: rapid.Bool().Draw(t, "deleted"),
		}
		if v := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "value"); len(v) > 0 {
			r.Value = v
		}
		return r
	})
}

func requireCorrupt(tb rapid.TB, what string, b []byte) {
	tb.Helper()
	r, n, err := crdt.DecodeRecord(b)
	if !errors.Is(err, crdt.ErrCorrupt) {
		tb.Fatalf("%s: DecodeRecord err = %v, want ErrCorrupt", what, err)
	}
	if n != 0 || !sameRecord(r, crdt.Record{}) {
		tb.Fatalf("%s: DecodeRecord returned (%+v, %d) alongside an error", what, r, n)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genEncodable().Draw(t, "record")
		prefix := rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "prefix")
		trailer := rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "trailer")

		buf := crdt.AppendRecord(bytes.Clone(prefix), r)
		if !bytes.Equal(buf[:len(prefix)], prefix) {
			t.Fatal("AppendRecord overwrote dst")
		}
		enc := buf[len(prefix):]
		if len(enc) != crdt.EncodedSize(r) {
			t.Fatalf("EncodedSize = %d, encoding is %d bytes", crdt.EncodedSize(r), len(enc))
		}
		in := append(bytes.Clone(enc), trailer...)
		got, n, err := crdt.DecodeRecord(in)
		if err != nil {
			t.Fatalf("DecodeRecord: %v", err)
		}
		if n != len(enc) {
			t.Fatalf("consumed %d bytes, encoding is %d", n, len(enc))
		}
		requireSameRecord(t, "decoded", got, r)
		for i := range in {
			in[i] ^= 0xff
		}
		requireSameRecord(t, "decoded after overwriting the input", got, r)
	})
}

func TestCodecDecodesConsecutiveRecords(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(genEncodable(), 0, 5).Draw(t, "records")
		var buf []byte
		for _, r := range rs {
			buf = crdt.AppendRecord(buf, r)
		}
		for i, want := range rs {
			got, n, err := crdt.DecodeRecord(buf)
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			requireSameRecord(t, "record", got, want)
			buf = buf[n:]
		}
		if len(buf) != 0 {
			t.Fatalf("%d bytes left over", len(buf))
		}
	})
}

func TestCodecTruncatedIsCorrupt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		enc := crdt.AppendRecord(nil, genEncodable().Draw(t, "record"))
		n := rapid.IntRange(0, len(enc)-1).Draw(t, "cut")
		requireCorrupt(t, "truncated", enc[:n])
	})
}

// TestCodecCorruptedNeverPanics flips bytes of valid encodings. The result
// may still decode; if it does, it must respect the limits and survive a
// re-encode.
func TestCodecCorruptedNeverPanics(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		enc := crdt.AppendRecord(nil, genEncodable().Draw(t, "record"))
		flips := rapid.IntRange(1, 4).Draw(t, "flips")
		for range flips {
			i := rapid.IntRange(0, len(enc)-1).Draw(t, "at")
			enc[i] = rapid.Byte().Draw(t, "byte")
		}
		checkDecode(t, enc)
	})
}

// checkDecode asserts everything DecodeRecord promises for arbitrary input.
func checkDecode(tb rapid.TB, b []byte) {
	tb.Helper()
	r, n, err := crdt.DecodeRecord(b)
	if err != nil {
		if !errors.Is(err, crdt.ErrCorrupt) {
			tb.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		if n != 0 {
			tb.Fatalf("consumed %d bytes on error", n)
		}
		return
	}
	if n < 1 || n > len(b) {
		tb.Fatalf("consumed %d of %d bytes", n, len(b))
	}
	if len(r.NS) > crdt.MaxNamespaceLen || len(r.Key) > crdt.MaxKeyLen ||
		len(r.Version.Origin) > crdt.MaxOriginLen || len(r.Value) > crdt.MaxStoredValueSize {
		tb.Fatalf("decoded record exceeds limits: ns %d, key %d, origin %d, value %d bytes",
			len(r.NS), len(r.Key), len(r.Version.Origin), len(r.Value))
	}
	enc := crdt.AppendRecord(nil, r)
	if len(enc) != crdt.EncodedSize(r) {
		tb.Fatalf("EncodedSize = %d, encoding is %d bytes", crdt.EncodedSize(r), len(enc))
	}
	if len(enc) > n { // only non-minimal varints can make the input longer
		tb.Fatalf("re-encoding is %d bytes, longer than the %d consumed", len(enc), n)
	}
	again, n2, err := crdt.DecodeRecord(enc)
	if err != nil || n2 != len(enc) {
		tb.Fatalf("re-encoded record does not decode: n = %d, err = %v", n2, err)
	}
	requireSameRecord(tb, "re-decoded", again, r)
}

func TestCodecRejectsMalformed(t *testing.T) {
	valid := crdt.AppendRecord(nil, crdt.Record{
		NS: "tasks", Key: "k", Value: []byte(`1`),
		Version: crdt.Version{HLC: 1, Origin: "node-a", Seq: 1},
	})
	// Offsets into valid: format(1) ns(1+5) key(1+1) hlc(8) origin(1+6) seq(1)
	// flags(1) value(1+1).
	const flagsAt = 1 + 6 + 2 + 8 + 7 + 1
	withByte := func(at int, c byte) []byte {
		b := bytes.Clone(valid)
		b[at] = c
		return b
	}
	// The encoder writes oversized fields; the decoder must refuse them.
	tests := map[string][]byte{
		"empty":              nil,
		"format 0":           withByte(0, 0),
		"format 2":           withByte(0, 2),
		"unknown flag":       withByte(flagsAt, 2),
		"varint overflow":    append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...),
		"namespace too long": crdt.AppendRecord(nil, crdt.Record{NS: strings.Repeat("n", crdt.MaxNamespaceLen+1)}),
		"key too long":       crdt.AppendRecord(nil, crdt.Record{Key: strings.Repeat("k", crdt.MaxKeyLen+1)}),
		"origin too long":    crdt.AppendRecord(nil, crdt.Record{Version: crdt.Version{Origin: crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen+1))}}),
		"value too long":     crdt.AppendRecord(nil, crdt.Record{Value: bytes.Repeat([]byte("1"), crdt.MaxStoredValueSize+1)}),
		"length past end":    append(bytes.Clone(valid[:len(valid)-2]), 2, '1'),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) { requireCorrupt(t, name, b) })
	}
}

func TestCodecAcceptsFieldsAtTheLimit(t *testing.T) {
	r := crdt.Record{
		NS:      strings.Repeat("n", crdt.MaxNamespaceLen),
		Key:     strings.Repeat("k", crdt.MaxKeyLen),
		Value:   bytes.Repeat([]byte("1"), crdt.MaxValueSize),
		Version: crdt.Version{HLC: 1, Origin: crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen)), Seq: 1},
	}
	got, n, err := crdt.DecodeRecord(crdt.AppendRecord(nil, r))
	if err != nil || n != crdt.EncodedSize(r) {
		t.Fatalf("DecodeRecord = %d, %v", n, err)
	}
	requireSameRecord(t, "decoded", got, r)
}

// TestCodecDoesNotAllocateClaimedLength feeds records whose value claims
// the maximum size but carries a few bytes: decoding must fail without
// allocating anything near the claim.
func TestCodecDoesNotAllocateClaimedLength(t *testing.T) {
	full := crdt.AppendRecord(nil, crdt.Record{
		NS: "tasks", Key: "k", Value: bytes.Repeat([]byte("1"), crdt.MaxValueSize),
		Version: crdt.Version{HLC: 1, Origin: "node-a", Seq: 1},
	})
	hostile := full[:len(full)-crdt.MaxValueSize+16]
	const runs = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, _, err := crdt.DecodeRecord(hostile); !errors.Is(err, crdt.ErrCorrupt) {
			t.Fatalf("DecodeRecord = %v, want ErrCorrupt", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 4<<10 {
		t.Fatalf("decoding a %d-byte input allocated %d bytes per run", len(hostile), perRun)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range []crdt.Record{
		{NS: "tasks", Key: "k", Value: []byte(`{"a":1}`), Version: crdt.Version{HLC: crdt.NewTimestamp(1_700_000_000_000, 3), Origin: "node-a", Seq: 1}},
		{NS: "work/tasks", Key: "ключ", Deleted: true, Version: crdt.Version{HLC: 1, Origin: "node-b", Seq: 1 << 63}},
	} {
		f.Add(crdt.AppendRecord(nil, r))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}
