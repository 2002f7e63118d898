package invite

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
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
	return Invite{
		Token:   Token{0xde, 0xad, 0xbe, 0xef, 15: 0x42},
		Expires: time.Unix(1_700_000_000, 0).UTC(),
		Peer:    peerID(tb, 1),
		Addrs: []ma.Multiaddr{
			addr(tb, "/ip4/192.168.1.20/tcp/4001"),
			addr(tb, "/ip6/fe80::1/tcp/4001"),
			addr(tb, "/dns4/laptop.example.com/tcp/443"),
		},
	}
}

func mustEncode(tb testing.TB, inv Invite) string {
	tb.Helper()
	code, err := Encode(inv)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

func assertEqual(tb testing.TB, got, want Invite) {
	tb.Helper()
	if got.Token != want.Token {
		tb.Errorf("token = %x, want %x", got.Token, want.Token)
	}
	if !got.Expires.Equal(want.Expires) {
		tb.Errorf("expires = %v, want %v", got.Expires, want.Expires)
	}
	if got.Peer != want.Peer {
		tb.Errorf("peer = %s, want %s", got.Peer, want.Peer)
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
	code := mustEncode(t, inv)
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
	if ai := got.AddrInfo(); ai.ID != inv.Peer || len(ai.Addrs) != len(inv.Addrs) {
		t.Errorf("AddrInfo = %v", ai)
	}
}

// TestCodeIsShort: the peer ID is carried once, not per address.
func TestCodeIsShort(t *testing.T) {
	inv := sample(t)
	inv.Addrs = inv.Addrs[:2]
	if code := mustEncode(t, inv); len(code) > 150 {
		t.Errorf("a code with two addresses is %d characters: %s", len(code), code)
	}
}

func TestExpired(t *testing.T) {
	inv := sample(t)
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{inv.Expires.Add(-time.Second), false},
		{inv.Expires, true},
		{inv.Expires.Add(time.Hour), true},
	} {
		if got := inv.Expired(tc.now); got != tc.want {
			t.Errorf("Expired(expiry%+v) = %v, want %v", tc.now.Sub(inv.Expires), got, tc.want)
		}
	}
}

func TestDecodeTrimsWhitespace(t *testing.T) {
	inv := sample(t)
	got, err := Decode("  \t" + mustEncode(t, inv) + "\r\n")
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, inv)
}

func TestEncodeDeterministic(t *testing.T) {
	if a, b := mustEncode(t, sample(t)), mustEncode(t, sample(t)); a != b {
		t.Errorf("Encode not deterministic:\n%s\n%s", a, b)
	}
}

func TestEncodeBoundsAddrs(t *testing.T) {
	inv := sample(t)
	inv.Addrs = nil
	for i := range MaxAddrs + 10 {
		inv.Addrs = append(inv.Addrs, addr(t, fmt.Sprintf("/ip4/10.0.0.%d/tcp/4001", i)))
	}
	got, err := Decode(mustEncode(t, inv))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Addrs) != MaxAddrs {
		t.Fatalf("%d addrs decoded, want the first %d", len(got.Addrs), MaxAddrs)
	}
	inv.Addrs = inv.Addrs[:MaxAddrs]
	assertEqual(t, got, inv)
}

func TestEncodeBoundsLength(t *testing.T) {
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + ".example"
	inv := sample(t)
	inv.Addrs = nil
	for i := range MaxAddrs {
		inv.Addrs = append(inv.Addrs, addr(t, fmt.Sprintf("/dns4/%s/tcp/%d", long, 1000+i)))
	}
	code := mustEncode(t, inv)
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
	inv.Addrs = inv.Addrs[:len(got.Addrs)]
	assertEqual(t, got, inv)
}

// TestEncodeKeepsOnlyTheInviteHost: an address that names the invite host
// loses its /p2p/; one of another peer, through a relay, or empty is left
// out.
func TestEncodeKeepsOnlyTheInviteHost(t *testing.T) {
	inv := sample(t)
	id, other := inv.Peer.String(), peerID(t, 2).String()
	given := inv
	given.Addrs = []ma.Multiaddr{
		nil,
		{},
		addr(t, "/ip4/192.168.1.20/tcp/4001/p2p/"+id),
		addr(t, "/ip4/10.9.9.9/tcp/4001/p2p/"+other),
		addr(t, "/ip4/10.9.9.9/tcp/4001/p2p/"+other+"/p2p-circuit/p2p/"+id),
		addr(t, "/p2p/"+id),
		inv.Addrs[1],
		inv.Addrs[2],
	}
	got, err := Decode(mustEncode(t, given))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, inv)
}

func TestEncodeErrors(t *testing.T) {
	noPeer := sample(t)
	noPeer.Peer = ""
	badPeer := sample(t)
	badPeer.Peer = "not a peer id"
	noAddrs := sample(t)
	noAddrs.Addrs = []ma.Multiaddr{addr(t, "/ip4/10.0.0.1/tcp/1/p2p/"+peerID(t, 9).String())}
	for name, inv := range map[string]Invite{"no peer": noPeer, "bad peer": badPeer, "no address": noAddrs} {
		if code, err := Encode(inv); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Encode = %q, %v; want ErrMalformed", name, code, err)
		}
	}
}

// payloadOf returns a valid code's payload, checksum removed.
func payloadOf(tb testing.TB, code string) []byte {
	tb.Helper()
	raw, err := enc.DecodeString(strings.TrimPrefix(code, Prefix))
	if err != nil {
		tb.Fatal(err)
	}
	return raw[:len(raw)-checksumLen]
}

// reseal rewrites a valid code's payload and recomputes its checksum, to
// reach the checks that follow the checksum.
func reseal(tb testing.TB, code string, edit func([]byte) []byte) string {
	tb.Helper()
	return wrap(Prefix, edit(payloadOf(tb, code)))
}

// countAt is the offset of the address count in sample's payload.
func countAt(tb testing.TB) int {
	tb.Helper()
	return headerLen + 1 + len(sample(tb).Peer)
}

func TestDecodeErrors(t *testing.T) {
	code := mustEncode(t, sample(t))
	body := code[len(Prefix):]
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	at := countAt(t)
	for name, tc := range map[string]struct {
		code string
		want error
	}{
		"empty":          {"", ErrPrefix},
		"wrong prefix":   {"syncnode2-" + body, ErrPrefix},
		"no prefix":      {body, ErrPrefix},
		"relay code":     {RelayPrefix + body, ErrPrefix},
		"too long":       {Prefix + strings.Repeat("A", MaxCodeLen), ErrTooLong},
		"bad character":  {code[:20] + "!" + code[21:], ErrEncoding},
		"inner space":    {code[:20] + " " + code[20:], ErrEncoding},
		"short":          {Prefix + "AAAA", ErrTruncated},
		"cut short":      {code[:len(code)-8], ErrChecksum},
		"typo":           {flip(code, len(Prefix)+40), ErrChecksum},
		"typo in token":  {flip(code, len(Prefix)+3), ErrChecksum},
		"typo in sum":    {flip(code, len(code)-2), ErrChecksum},
		"future version": {reseal(t, code, func(p []byte) []byte { p[0] = Version + 1; return p }), ErrVersion},
		"version zero":   {reseal(t, code, func(p []byte) []byte { p[0] = 0; return p }), ErrVersion},
		"old version":    {reseal(t, code, func(p []byte) []byte { p[0] = 1; return p }), ErrOldVersion},
		"header cut":     {reseal(t, code, func(p []byte) []byte { return p[:headerLen-1] }), ErrTruncated},
		"no peer":        {reseal(t, code, func(p []byte) []byte { return p[:headerLen] }), ErrTruncated},
		"huge expiry": {reseal(t, code, func(p []byte) []byte {
			binary.BigEndian.PutUint64(p[1+TokenSize:], 1<<63)
			return p
		}), ErrMalformed},
		"peer beyond end": {reseal(t, code, func(p []byte) []byte { p[headerLen] = 0x7f; return p }), ErrTruncated},
		"huge peer": {reseal(t, code, func(p []byte) []byte {
			p = binary.AppendUvarint(p[:headerLen], maxPeerIDLen+1)
			return append(p, make([]byte, maxPeerIDLen+1)...)
		}), ErrMalformed},
		"bad peer":       {reseal(t, code, func(p []byte) []byte { p[headerLen+2] = 0x10; return p }), ErrMalformed},
		"too many addrs": {reseal(t, code, func(p []byte) []byte { p[at] = MaxAddrs + 1; return p }), ErrTooLong},
		"missing addr":   {reseal(t, code, func(p []byte) []byte { p[at]++; return p }), ErrTruncated},
		"no count":       {reseal(t, code, func(p []byte) []byte { return p[:at] }), ErrTruncated},
		"no addrs":       {reseal(t, code, func(p []byte) []byte { p[at] = 0; return p[:at+1] }), ErrMalformed},
		"trailing bytes": {reseal(t, code, func(p []byte) []byte { return append(p, 0) }), ErrMalformed},
		"bad multiaddr":  {reseal(t, code, func(p []byte) []byte { p[at+2] = 0xff; return p }), ErrMalformed},
		"empty addr": {reseal(t, code, func(p []byte) []byte {
			p[at] = 1
			return append(p[:at+1], 0)
		}), ErrMalformed},
		"addr names a peer": {reseal(t, code, func(p []byte) []byte {
			b := addr(t, "/ip4/1.2.3.4/tcp/1/p2p/"+peerID(t, 1).String()).Bytes()
			p[at] = 1
			return append(append(p[:at+1], byte(len(b))), b...)
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

// TestOldCodeRefused: a version-1 code, which carried the group secret
// itself, is refused with advice.
func TestOldCodeRefused(t *testing.T) {
	payload := append([]byte{1}, make([]byte, 32+1)...) // version, secret, no addresses
	_, err := Decode(wrap(Prefix, payload))
	if !errors.Is(err, ErrOldVersion) || !strings.Contains(err.Error(), "older syncnode: ask for a new code") {
		t.Fatalf("Decode of a version-1 code: %v", err)
	}
}

// TestDecodeTruncatedAnyLength cuts a code at every length and checks each
// gives a truncation or checksum error, never a success or a panic.
func TestDecodeTruncatedAnyLength(t *testing.T) {
	code := mustEncode(t, sample(t))
	for n := len(Prefix); n < len(code); n++ {
		_, err := Decode(code[:n])
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("Decode(code[:%d]) error = %v, want ErrTruncated or ErrChecksum", n, err)
		}
	}
}

func TestDecodeAcceptsWrappedLines(t *testing.T) {
	code := mustEncode(t, sample(t))
	wrapped := code[:30] + "\n" + code[30:60] + "\r\n" + code[60:]
	got, err := Decode(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, got, sample(t))
}

// TestAnswerRoundTrip: a grant keeps the addresses with a peer ID; each
// refusal decodes to its error.
func TestAnswerRoundTrip(t *testing.T) {
	id := peerID(t, 3).String()
	want := []ma.Multiaddr{addr(t, "/ip4/10.0.0.1/tcp/4001/p2p/"+id), addr(t, "/ip6/::1/tcp/4001/p2p/"+id)}
	given := append([]ma.Multiaddr{nil, addr(t, "/ip4/10.0.0.2/tcp/1")}, want...)
	j, err := decodeAnswer(encodeGrant(testSecret, given))
	if err != nil {
		t.Fatal(err)
	}
	if j.Secret != testSecret || len(j.Addrs) != len(want) || !j.Addrs[0].Equal(want[0]) || !j.Addrs[1].Equal(want[1]) {
		t.Fatalf("decoded %+v", j)
	}
	for status, want := range statusErr {
		if _, err := decodeAnswer([]byte{status}); !errors.Is(err, want) {
			t.Errorf("status %d: %v, want %v", status, err, want)
		}
	}
}

func TestAnswerErrors(t *testing.T) {
	grant := encodeGrant(testSecret, nil)
	for name, b := range map[string][]byte{
		"empty":            nil,
		"unknown status":   {0x7f},
		"refusal and more": {statusUsed, 0},
		"short grant":      grant[:10],
		"no count":         grant[:1+len(testSecret)],
		"trailing":         append(bytes.Clone(grant), 1),
		"addr without id":  append(append(bytes.Clone(grant[:len(grant)-1]), 1, 8), addr(t, "/ip4/1.2.3.4/tcp/1").Bytes()...),
		"oversized":        make([]byte, maxAnswer+1),
	} {
		if _, err := decodeAnswer(b); !errors.Is(err, ErrAnswer) {
			t.Errorf("%s: %v, want ErrAnswer", name, err)
		}
	}
}
