package invite

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/group"
)

// peerID returns a deterministic peer ID for seed.
func peerID(tb testing.TB, seed byte) peer.ID {
	tb.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s))
	if err != nil {
		tb.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func addr(tb testing.TB, s string) ma.Multiaddr {
	tb.Helper()
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func sample(tb testing.TB) Invite {
	tb.Helper()
	id := peerID(tb, 1)
	return Invite{
		Secret: group.Secret{0xde, 0xad, 0xbe, 0xef, 31: 0x42},
		Addrs: []ma.Multiaddr{
			addr(tb, "/ip4/192.168.1.20/tcp/4001/p2p/"+id.String()),
			addr(tb, "/ip6/fe80::1/tcp/4001/p2p/"+id.String()),
			addr(tb, "/dns4/relay.example.com/tcp/443/p2p/"+peerID(tb, 2).String()+"/p2p-circuit/p2p/"+id.String()),
		},
	}
}

func assertEqual(tb testing.TB, got, want Invite) {
	tb.Helper()
	if got.Secret != want.Secret {
		tb.Errorf("secret = %s, want %s", got.Secret, want.Secret)
	}
	if len(got.Addrs) != len(want.Addrs) {
		tb.Fatalf("%d addrs, want %d: %v", len(got.Addrs), len(want.Addrs), got.Addrs)
	}
	for i := range want.Addrs {
		if !got.Addrs[i].Equal(want.Addrs[i]) {
			tb.Errorf("addr %d = %s, want %s", i, got.Addrs[i], want.Addrs[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	inv := sample(t)
	code := Encode(inv)
	if !strings.HasPrefix(code, Prefix) {
		t.Fatalf("code %q lacks prefix %q", code, Prefix)
	}
	if strings.ContainsAny(code[len(Prefix):], "+/=") {
		t.Errorf("code %q is not unpadded base64url", code)
	}
	got, err := Decode(code)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, inv)
}

func TestRoundTripNoAddrs(t *testing.T) {
	inv := Invite{Secret: group.Secret{9}}
	got, err := Decode(Encode(inv))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, inv)
}

func TestDecodeTrimsWhitespace(t *testing.T) {
	inv := sample(t)
	got, err := Decode("  \t" + Encode(inv) + "\r\n")
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, inv)
}

func TestEncodeDeterministic(t *testing.T) {
	if a, b := Encode(sample(t)), Encode(sample(t)); a != b {
		t.Errorf("Encode not deterministic:\n%s\n%s", a, b)
	}
}

func TestEncodeBoundsAddrs(t *testing.T) {
	id := peerID(t, 3).String()
	inv := Invite{Secret: group.Secret{1}}
	for i := range MaxAddrs + 10 {
		inv.Addrs = append(inv.Addrs, addr(t, fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001/p2p/%s", i, id)))
	}
	code := Encode(inv)
	got, err := Decode(code)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Addrs) != MaxAddrs {
		t.Fatalf("%d addrs decoded, want the first %d", len(got.Addrs), MaxAddrs)
	}
	assertEqual(t, got, Invite{Secret: inv.Secret, Addrs: inv.Addrs[:MaxAddrs]})
}

func TestEncodeBoundsLength(t *testing.T) {
	id := peerID(t, 4).String()
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + ".example"
	inv := Invite{Secret: group.Secret{1}}
	for i := range MaxAddrs {
		inv.Addrs = append(inv.Addrs, addr(t, fmt.Sprintf("/dns4/%s/tcp/%d/p2p/%s", long, 1000+i, id)))
	}
	code := Encode(inv)
	if len(code) > MaxCodeLen {
		t.Fatalf("code is %d characters, more than %d", len(code), MaxCodeLen)
	}
	got, err := Decode(code)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Addrs); n == 0 || n >= MaxAddrs {
		t.Fatalf("%d addrs kept; want some but not all", n)
	}
	assertEqual(t, got, Invite{Secret: inv.Secret, Addrs: inv.Addrs[:len(got.Addrs)]})
}

func TestEncodeSkipsAddrsWithoutPeerID(t *testing.T) {
	inv := sample(t)
	inv.Addrs = append([]ma.Multiaddr{addr(t, "/ip4/10.0.0.1/tcp/4001"), nil}, inv.Addrs...)
	got, err := Decode(Encode(inv))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, sample(t))
}

func TestDecodeErrors(t *testing.T) {
	code := Encode(sample(t))
	body := code[len(Prefix):]
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	for name, tc := range map[string]struct {
		code string
		want error
	}{
		"empty":          {"", ErrPrefix},
		"wrong prefix":   {"syncnode2-" + body, ErrPrefix},
		"no prefix":      {body, ErrPrefix},
		"too long":       {Prefix + strings.Repeat("A", MaxCodeLen), ErrTooLong},
		"bad character":  {code[:20] + "!" + code[21:], ErrEncoding},
		"inner space":    {code[:20] + " " + code[20:], ErrEncoding},
		"short":          {Prefix + "AAAA", ErrTruncated},
		"cut short":      {code[:len(code)-8], ErrChecksum},
		"typo":           {flip(code, len(Prefix)+40), ErrChecksum},
		"typo in secret": {flip(code, len(Prefix)+3), ErrChecksum},
		"typo in sum":    {flip(code, len(code)-2), ErrChecksum},
		"future version": {reseal(t, code, func(p []byte) []byte { p[0] = 2; return p }), ErrVersion},
		"too many addrs": {reseal(t, code, func(p []byte) []byte { p[headerLen-1] = MaxAddrs + 1; return p }), ErrTooLong},
		"missing addr":   {reseal(t, code, func(p []byte) []byte { p[headerLen-1]++; return p }), ErrTruncated},
		"trailing bytes": {reseal(t, code, func(p []byte) []byte { return append(p, 0) }), ErrMalformed},
		"bad multiaddr":  {reseal(t, code, func(p []byte) []byte { p[headerLen+1] = 0xff; return p }), ErrMalformed},
		"no peer id": {reseal(t, Encode(Invite{}), func(p []byte) []byte {
			b := addr(t, "/ip4/1.2.3.4/tcp/1").Bytes()
			p[headerLen-1] = 1
			return append(append(p, byte(len(b))), b...)
		}), ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(tc.code)
			if !errors.Is(err, tc.want) {
				t.Errorf("Decode error = %v, want %v", err, tc.want)
			}
		})
	}
}

// reseal rewrites a valid code's payload and recomputes its checksum, to
// reach the checks that follow the checksum.
func reseal(tb testing.TB, code string, edit func([]byte) []byte) string {
	tb.Helper()
	raw, err := enc.DecodeString(strings.TrimPrefix(code, Prefix))
	if err != nil {
		tb.Fatal(err)
	}
	p := edit(raw[:len(raw)-checksumLen])
	sum := checksum(p)
	return Prefix + enc.EncodeToString(append(p, sum[:]...))
}

// TestDecodeTruncatedAnyLength cuts a code at every length and checks each
// gives a truncation or checksum error, never a success or a panic.
func TestDecodeTruncatedAnyLength(t *testing.T) {
	code := Encode(sample(t))
	for n := len(Prefix); n < len(code); n++ {
		_, err := Decode(code[:n])
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("Decode(code[:%d]) error = %v, want ErrTruncated or ErrChecksum", n, err)
		}
	}
}

func TestDecodeAcceptsWrappedLines(t *testing.T) {
	code := Encode(sample(t))
	wrapped := code[:30] + "\n" + code[30:60] + "\r\n" + code[60:]
	got, err := Decode(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, sample(t))
}
