package discovery

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestTXTRoundTrip(t *testing.T) {
	id := testPeerID(t, 1)
	in := txtRecord{ID: id, Hint: "abc123", Addrs: mustAddrs(t, "/ip4/10.0.0.1/tcp/4001", "/ip6/fd00::1/udp/4001/quic-v1")}
	txt := encodeTXT(in)
	want := []string{"id=" + id.String(), "g=abc123", "a=/ip4/10.0.0.1/tcp/4001", "a=/ip6/fd00::1/udp/4001/quic-v1"}
	if !slices.Equal(txt, want) {
		t.Fatalf("encode = %q, want %q", txt, want)
	}
	out, err := parseTXT(txt)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if out.ID != in.ID || out.Hint != in.Hint || !slices.Equal(addrStrings(out.Addrs), addrStrings(in.Addrs)) {
		t.Fatalf("round trip = %+v, want %+v", out, in)
	}
}

func TestEncodeTXTBoundsAddresses(t *testing.T) {
	id := testPeerID(t, 1)
	var addrs []string
	for i := range maxTXTAddrs + 3 {
		addrs = append(addrs, fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", i+1))
	}
	long := "/dns4/" + strings.Repeat("x", 250) + "/tcp/1"
	txt := encodeTXT(txtRecord{ID: id, Hint: "h", Addrs: mustAddrs(t, append([]string{long}, addrs...)...)})
	if got := len(txt) - 2; got != maxTXTAddrs {
		t.Fatalf("encoded %d addresses, want %d", got, maxTXTAddrs)
	}
	for _, s := range txt {
		if len(s) > maxTXTString {
			t.Errorf("TXT string of %d bytes", len(s))
		}
	}
}

func TestParseTXT(t *testing.T) {
	id := testPeerID(t, 1).String()
	tests := []struct {
		name      string
		txt       []string
		wantErr   bool
		wantAddrs []string
	}{
		{"minimal", []string{"id=" + id, "g=h"}, false, nil},
		{"keys are case-insensitive", []string{"ID=" + id, "G=h", "A=/ip4/10.0.0.1/tcp/1"}, false, []string{"/ip4/10.0.0.1/tcp/1"}},
		{"unknown keys and flags ignored", []string{"v=2", "flag", "id=" + id, "g=h"}, false, nil},
		{"bad address skipped", []string{"id=" + id, "g=h", "a=/ip4/999.0.0.1/tcp/1", "a=nonsense", "a=/ip4/10.0.0.2/tcp/2"}, false, []string{"/ip4/10.0.0.2/tcp/2"}},
		{"no id", []string{"g=h"}, true, nil},
		{"no hint", []string{"id=" + id}, true, nil},
		{"bad id", []string{"id=notapeerid", "g=h"}, true, nil},
		{"empty id", []string{"id=", "g=h"}, true, nil},
		{"empty hint", []string{"id=" + id, "g="}, true, nil},
		{"hint with space", []string{"id=" + id, "g=a b"}, true, nil},
		{"repeated id", []string{"id=" + id, "id=" + id, "g=h"}, true, nil},
		{"repeated hint", []string{"id=" + id, "g=h", "g=h"}, true, nil},
		{"empty record", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseTXT(tt.txt)
			if tt.wantErr {
				if !errors.Is(err, errMalformedTXT) {
					t.Fatalf("parse = %+v, %v; want errMalformedTXT", r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if r.ID.String() != id || r.Hint != "h" {
				t.Errorf("parse = %+v", r)
			}
			if got := addrStrings(r.Addrs); !slices.Equal(got, tt.wantAddrs) {
				t.Errorf("addrs = %v, want %v", got, tt.wantAddrs)
			}
		})
	}
}

func TestParseTXTBoundsAddresses(t *testing.T) {
	txt := []string{"id=" + testPeerID(t, 1).String(), "g=h"}
	for i := range 100 {
		txt = append(txt, fmt.Sprintf("a=/ip4/10.0.0.%d/tcp/1", i))
	}
	r, err := parseTXT(txt)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(r.Addrs) != maxTXTAddrs {
		t.Fatalf("kept %d addresses, want %d", len(r.Addrs), maxTXTAddrs)
	}
}

// FuzzParseTXT feeds arbitrary TXT strings, as any host on the LAN may send,
// and checks that an accepted record survives a re-encode unchanged.
func FuzzParseTXT(f *testing.F) {
	id := testPeerID(f, 1).String()
	f.Add("id="+id, "g=h", "a=/ip4/10.0.0.1/tcp/4001")
	f.Add("ID="+id, "G=h", "a=/ip6/::1/udp/1/quic-v1")
	f.Add("id=QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", "g==", "a=")
	f.Add("id", "g", "a")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		r, err := parseTXT([]string{a, b, c})
		if err != nil {
			return
		}
		if r.ID.Validate() != nil || validateHint(r.Hint) != nil || len(r.Addrs) > maxTXTAddrs {
			t.Fatalf("accepted invalid record %+v", r)
		}
		again, err := parseTXT(encodeTXT(r))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", encodeTXT(r), err)
		}
		if again.ID != r.ID || again.Hint != r.Hint || len(again.Addrs) > len(r.Addrs) {
			t.Fatalf("re-parse = %+v, want %+v", again, r)
		}
	})
}
