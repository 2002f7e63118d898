package invite

import (
	"testing"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// survives another round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(sample(f)))
	f.Add(Encode(Invite{}))
	f.Add(Prefix)
	f.Fuzz(func(t *testing.T, code string) {
		inv, err := Decode(code)
		if err != nil {
			return
		}
		if len(inv.Addrs) > MaxAddrs {
			t.Fatalf("decoded %d addrs", len(inv.Addrs))
		}
		again, err := Decode(Encode(inv))
		if err != nil {
			t.Fatalf("re-encoded code does not decode: %v", err)
		}
		assertEqual(t, again, inv)
	})
}
