package relaylink

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func TestWireRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := Request{Token: "snr_x", Ack: crdt.Vector{"a": 3, "b": 9}}
	if err := Send(&buf, in); err != nil {
		t.Fatal(err)
	}
	if err := Send(&buf, KeyFrame{Keys: [][2]string{{"ns", "k"}}, Done: true, Vector: crdt.Vector{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	rd := NewReader(&buf)
	var got Request
	if err := rd.Recv(&got); err != nil {
		t.Fatal(err)
	}
	if got.Token != in.Token || got.Ack["b"] != 9 {
		t.Errorf("request %+v, want %+v", got, in)
	}
	var f KeyFrame
	if err := rd.Recv(&f); err != nil || !f.Done || f.Keys[0] != [2]string{"ns", "k"} {
		t.Errorf("frame %+v, %v", f, err)
	}
}

func TestWireRefusesBadInput(t *testing.T) {
	long := `{"token":"` + strings.Repeat("x", MaxLine) + `"}` + "\n"
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"line over the limit": {long, ErrTooLong},
		"not json":            {"hello\n", crdt.ErrCorrupt},
		"wrong types":         {`{"ack":{"a":"x"}}` + "\n", crdt.ErrCorrupt},
	} {
		var r Request
		if err := NewReader(strings.NewReader(tc.in)).Recv(&r); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	var r Request
	if err := NewReader(strings.NewReader(`{"ack":{}}`)).Recv(&r); err == nil {
		t.Error("a line cut short (no newline) was accepted")
	}
}

func TestParsePeersKeepsOnlyOthers(t *testing.T) {
	got := parsePeers([]string{"garbage", "", "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"}, "", "")
	if len(got) != 1 {
		t.Fatalf("parsePeers = %v, want the one valid ID", got)
	}
	if got := parsePeers([]string{got[0].String()}, got[0], ""); len(got) != 0 {
		t.Errorf("parsePeers kept self: %v", got)
	}
}

// FuzzReadRequest: whatever a peer sends, reading it neither panics nor
// returns a request from a line over the limit.
func FuzzReadRequest(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzReadRequest.
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := NewReader(bytes.NewReader(b))
		for range 4 {
			var r Request
			if err := rd.Recv(&r); err != nil {
				return
			}
		}
	})
}
