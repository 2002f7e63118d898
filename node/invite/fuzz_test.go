package invite

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// survives another round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(mustEncode(f, sample(f)))
	f.Add(Prefix)
	f.Fuzz(func(t *testing.T, code string) {
		inv, err := Decode(code)
		if err != nil {
			return
		}
		if len(inv.Addrs) == 0 || len(inv.Addrs) > MaxAddrs {
			t.Fatalf("decoded %d addrs", len(inv.Addrs))
		}
		again, err := Decode(mustEncode(t, inv))
		if err != nil {
			t.Fatalf("re-encoded code does not decode: %v", err)
		}
		assertEqual(t, again, inv)
	})
}

// FuzzDecodeAnswer checks that an inviter's answer, which a joiner reads
// from the network, never panics the decoder, and that whatever it accepts
// survives another round trip unchanged.
func FuzzDecodeAnswer(f *testing.F) {
	id := peerID(f, 1).String()
	f.Add(encodeGrant(testSecret, []ma.Multiaddr{addr(f, "/ip4/192.168.1.20/tcp/4001/p2p/"+id)}))
	f.Add(encodeGrant(testSecret, nil))
	for status := range statusErr {
		f.Add([]byte{status})
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := decodeAnswer(b)
		if err != nil {
			return
		}
		again, err := decodeAnswer(encodeGrant(j.Secret, j.Addrs))
		if err != nil {
			t.Fatalf("re-encoded answer does not decode: %v", err)
		}
		if again.Secret != j.Secret || len(again.Addrs) != len(j.Addrs) {
			t.Fatalf("round trip changed %+v into %+v", j, again)
		}
		for i := range j.Addrs {
			if !again.Addrs[i].Equal(j.Addrs[i]) {
				t.Fatalf("addr %d: %s became %s", i, j.Addrs[i], again.Addrs[i])
			}
		}
	})
}
