package invite

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/clocktest"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/p2p"
)

// testSecret is the group secret the test servers hand out.
var testSecret = group.Secret{0x5e, 0xc7, 0xe7, 31: 0x99}

// testTimeout bounds every wait; hitting it is a failure.
const testTimeout = 10 * time.Second

// nodeAddrs are the inviting node's addresses the test servers hand out.
func nodeAddrs(tb testing.TB) []ma.Multiaddr {
	tb.Helper()
	return []ma.Multiaddr{addr(tb, "/ip4/127.0.0.1/tcp/4001/p2p/"+peerID(tb, 7).String())}
}

// newServer returns a server on loopback whose clock starts at the real
// time, so that the joiner, which reads the real clock, takes its codes for
// valid until the test moves the clock.
func newServer(t *testing.T) (*Server, *clocktest.Manual) {
	t.Helper()
	clock := clocktest.New(time.Now())
	addrs := nodeAddrs(t)
	s, err := NewServer(ServerConfig{
		Secret: testSecret,
		Listen: []ma.Multiaddr{addr(t, "/ip4/127.0.0.1/tcp/0")},
		Addrs:  func() []ma.Multiaddr { return addrs },
		Now:    clock.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock
}

func create(t *testing.T, s *Server, ttl time.Duration) string {
	t.Helper()
	code, _, err := s.Create(ttl)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func redeem(t *testing.T, code string) (Joined, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return Redeem(ctx, code)
}

func mustRedeem(t *testing.T, code string) Joined {
	t.Helper()
	j, err := redeem(t, code)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// eventually polls cond until it holds, failing the test at testTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// waitStopped waits until the invite host has closed.
func waitStopped(t *testing.T, s *Server) {
	t.Helper()
	eventually(t, "the invite host to close once every invite expired", func() bool { return !s.running() })
}

func TestRedeemGrantsSecretOnce(t *testing.T) {
	s, clock := newServer(t)
	if s.running() {
		t.Fatal("an invite host runs before any invite")
	}
	code, expires, err := s.Create(DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d > DefaultTTL || d < DefaultTTL-2*time.Second {
		t.Errorf("expires in %v, want %v", d, DefaultTTL)
	}
	j := mustRedeem(t, code)
	if j.Secret != testSecret {
		t.Errorf("granted secret %s, want %s", j.Secret, testSecret)
	}
	if want := nodeAddrs(t); len(j.Addrs) != 1 || !j.Addrs[0].Equal(want[0]) {
		t.Errorf("granted addrs %v, want %v", j.Addrs, want)
	}
	// Its only invite used, the host stays up until the code expires, so
	// a second try hears why it fails.
	if _, err := redeem(t, code); !errors.Is(err, ErrUsed) {
		t.Fatalf("second redeem: %v, want already used", err)
	}
	clock.Advance(DefaultTTL)
	s.sweep()
	waitStopped(t, s)
	if _, err := redeem(t, code); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("redeem with the host closed: %v, want ErrUnreachable", err)
	}
}

func TestRedeemTwiceIsAlreadyUsed(t *testing.T) {
	s, clock := newServer(t)
	first, second := create(t, s, DefaultTTL), create(t, s, DefaultTTL)
	mustRedeem(t, first)
	_, err := redeem(t, first)
	if !errors.Is(err, ErrUsed) || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("second redeem of a code: %v, want already used", err)
	}
	if !s.running() {
		t.Fatal("the invite host stopped with an invite pending")
	}
	mustRedeem(t, second)
	if !s.running() {
		t.Fatal("the invite host stopped before its codes expired")
	}
	clock.Advance(DefaultTTL)
	s.sweep()
	waitStopped(t, s)
}

func TestRedeemExpired(t *testing.T) {
	s, clock := newServer(t)
	short, long := create(t, s, MinTTL), create(t, s, 10*time.Minute)
	clock.Advance(2 * time.Minute)
	// The joiner's clock still says valid; the inviter's says expired.
	if _, err := redeem(t, short); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("redeem after the inviter's expiry: %v, want expired", err)
	}
	s.sweep()
	if !s.running() {
		t.Fatal("the invite host stopped with an invite pending")
	}
	clock.Advance(10 * time.Minute)
	s.sweep()
	waitStopped(t, s)
	if _, err := redeem(t, long); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("redeem with every invite expired: %v, want ErrUnreachable", err)
	}
}

// TestJoinerRefusesExpiredCode: the joiner reads the expiry from the code and
// does not dial (the address would answer nothing).
func TestJoinerRefusesExpiredCode(t *testing.T) {
	inv := sample(t)
	inv.Addrs = []ma.Multiaddr{addr(t, "/ip4/127.0.0.1/tcp/1")}
	code := mustEncode(t, inv)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := redeemAt(ctx, code, inv.Expires); !errors.Is(err, ErrExpired) {
		t.Fatalf("redeem at the expiry: %v, want ErrExpired", err)
	}
	if _, err := Redeem(ctx, code); !errors.Is(err, ErrExpired) {
		t.Fatalf("redeem of a code that expired in 2023: %v, want ErrExpired", err)
	}
}

func TestRedeemUnknownToken(t *testing.T) {
	s, _ := newServer(t)
	inv, err := Decode(create(t, s, DefaultTTL))
	if err != nil {
		t.Fatal(err)
	}
	inv.Token[0] ^= 1
	if _, err := redeem(t, mustEncode(t, inv)); !errors.Is(err, ErrUnknown) {
		t.Fatalf("redeem of a made-up token: %v, want ErrUnknown", err)
	}
}

func TestRedeemBadCode(t *testing.T) {
	for code, want := range map[string]error{
		"":                  ErrPrefix,
		"hello":             ErrPrefix,
		Prefix + "AAAA":     ErrTruncated,
		Prefix + "AAAA!":    ErrEncoding,
		Prefix + "AAAAAAAA": ErrChecksum,
	} {
		if _, err := redeem(t, code); !errors.Is(err, want) {
			t.Errorf("redeem %q: %v, want %v", code, err, want)
		}
	}
}

// TestFailuresAreRateLimited: after a burst of bad tokens from one address,
// even a valid one is refused until the limit refills.
func TestFailuresAreRateLimited(t *testing.T) {
	s, clock := newServer(t)
	good := create(t, s, DefaultTTL)
	inv, err := Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	inv.Token = Token{}
	bad := mustEncode(t, inv)
	for range failBurst {
		if _, err := redeem(t, bad); !errors.Is(err, ErrUnknown) {
			t.Fatalf("bad token: %v, want ErrUnknown", err)
		}
	}
	for _, code := range []string{bad, good} {
		if _, err := redeem(t, code); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("attempt beyond the burst: %v, want ErrRateLimited", err)
		}
	}
	clock.Advance(failEvery)
	mustRedeem(t, good)
}

// TestCodeCarriesNoSecret: neither the code's text nor its bytes hold the
// group secret, in any form.
func TestCodeCarriesNoSecret(t *testing.T) {
	s, _ := newServer(t)
	code := create(t, s, DefaultTTL)
	payload := payloadOf(t, code)
	for _, form := range []string{hex.EncodeToString(testSecret[:]), strings.ToUpper(hex.EncodeToString(testSecret[:])),
		base64.RawURLEncoding.EncodeToString(testSecret[:]), base64.StdEncoding.EncodeToString(testSecret[:]), string(testSecret[:])} {
		if strings.Contains(code, form) {
			t.Fatalf("code %s holds the secret as %q", code, form)
		}
	}
	for i := 0; i+8 <= len(testSecret); i++ {
		if strings.Contains(string(payload), string(testSecret[i:i+8])) {
			t.Fatalf("code bytes hold 8 bytes of the secret at %d", i)
		}
	}
}

func TestCreateErrors(t *testing.T) {
	s, _ := newServer(t)
	for _, ttl := range []time.Duration{0, -time.Minute, MinTTL - time.Second, MaxTTL + time.Second} {
		if _, _, err := s.Create(ttl); !errors.Is(err, ErrTTL) {
			t.Errorf("Create(%v): %v, want ErrTTL", ttl, err)
		}
	}
	if s.running() {
		t.Fatal("a refused invite started the invite host")
	}
	for range MaxPending {
		create(t, s, MinTTL)
	}
	if _, _, err := s.Create(MinTTL); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("invite beyond MaxPending: %v, want ErrTooManyPending", err)
	}
	s.Close()
	if s.running() {
		t.Fatal("the invite host runs after Close")
	}
	if _, _, err := s.Create(MinTTL); !errors.Is(err, ErrClosed) {
		t.Fatalf("Create after Close: %v, want ErrClosed", err)
	}
}

// TestRemembersBoundedInvites: used invites are forgotten beyond
// maxRemembered, pending ones never.
func TestRemembersBoundedInvites(t *testing.T) {
	s, _ := newServer(t)
	keep := create(t, s, DefaultTTL)
	for range maxRemembered + 10 {
		code := create(t, s, DefaultTTL)
		inv, err := Decode(code)
		if err != nil {
			t.Fatal(err)
		}
		if _, status := s.redeem(inv.Token); status != statusOK {
			t.Fatal("a fresh invite was not redeemed")
		}
	}
	s.mu.Lock()
	n := len(s.entries)
	s.mu.Unlock()
	if n > maxRemembered {
		t.Fatalf("%d invites remembered, at most %d", n, maxRemembered)
	}
	mustRedeem(t, keep)
}

// TestHostileClients: streams that send nothing, too little, or far too
// much, and connections that never open a stream, leave the server serving.
func TestHostileClients(t *testing.T) {
	s, clock := newServer(t)
	code := create(t, s, DefaultTTL)
	h, inv, ctx := hostileClient(t, code)
	for name, send := range map[string][]byte{
		"nothing":   nil,
		"too short": {1, 2, 3},
		"too long":  make([]byte, 128<<10), // within yamux's window, so the write does not block
	} {
		st, err := h.NewStream(ctx, inv.Peer, ProtocolID)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st.SetDeadline(time.Now().Add(testTimeout))
		start := time.Now()
		st.Write(send)
		st.CloseWrite()
		answer, _ := io.ReadAll(io.LimitReader(st, maxAnswer+1))
		st.Close()
		t.Logf("%s: answered %x in %v", name, answer, time.Since(start))
		if len(answer) > 1 || len(answer) == 1 && answer[0] == statusOK {
			t.Fatalf("%s: answered %x", name, answer)
		}
	}
	clock.Advance(failBurst * failEvery)
	if j := mustRedeem(t, code); j.Secret != testSecret {
		t.Fatal("wrong secret after the hostile clients")
	}
}

// hostileClient connects a throwaway public host to the invite host of
// code, as a hostile client would; ctx bounds the test.
func hostileClient(t *testing.T, code string) (host.Host, Invite, context.Context) {
	t.Helper()
	inv, err := Decode(code)
	if err != nil {
		t.Fatal(err)
	}
	h := rawHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	if err := h.Connect(ctx, inv.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	return h, inv, ctx
}

// rawHost is a throwaway public host, as a hostile client would run.
func rawHost(t *testing.T) host.Host {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p2p.New(p2p.Config{PrivKey: key, ListenAddrs: []ma.Multiaddr{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// TestInviteHostHasNoNetworkKey: a host of the group's private network
// cannot even connect to the invite host, nor a public host to the group's:
// the invite host is the only way in without the secret.
func TestInviteHostHasNoNetworkKey(t *testing.T) {
	s, _ := newServer(t)
	inv, err := Decode(create(t, s, DefaultTTL))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	member, err := p2p.New(p2p.Config{PrivKey: key, PSK: testSecret.PSK(), ListenAddrs: []ma.Multiaddr{}})
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	// The handshake stalls rather than fails: the invite host waits for a
	// Noise message that never comes. A second is ample on loopback.
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	if err := member.Connect(short, inv.AddrInfo()); err == nil {
		t.Fatal("a private-network host connected to the invite host")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := rawHost(t).Connect(ctx, inv.AddrInfo()); err != nil {
		t.Fatalf("a public host cannot reach the invite host: %v", err)
	}
}

// TestSlotsHeldOpenLeaveJoinersAnAnswer: a client that holds every exchange
// slot with streams that never finish does not make a joiner's attempt
// vanish in a reset: the joiner hears that the inviter is busy, and the
// code still works once the slots free up.
func TestSlotsHeldOpenLeaveJoinersAnAnswer(t *testing.T) {
	s, clock := newServer(t)
	code := create(t, s, DefaultTTL)
	h, inv, ctx := hostileClient(t, code)
	var held []network.Stream
	for range maxInflight {
		st, err := h.NewStream(ctx, inv.Peer, ProtocolID)
		if err != nil {
			t.Fatal(err)
		}
		st.Write([]byte{1}) // a token's first byte, and no more
		held = append(held, st)
	}
	eventually(t, "every slot held", func() bool { return len(s.inflight) == maxInflight })
	if _, err := redeem(t, code); !errors.Is(err, ErrBusy) {
		t.Fatalf("redeem with every slot held: %v, want busy", err)
	}
	for _, st := range held {
		st.Reset()
	}
	eventually(t, "the slots freed after the streams were reset", func() bool { return len(s.inflight) == 0 })
	clock.Advance(failBurst * failEvery) // the held streams failed too
	mustRedeem(t, code)
}

// TestUndeliveredGrantLeavesTheCodeGood: when the grant cannot be sent,
// the invite is given back, so the joiner's retry works instead of hearing
// "already used".
func TestUndeliveredGrantLeavesTheCodeGood(t *testing.T) {
	s, _ := newServer(t)
	inv, err := Decode(create(t, s, DefaultTTL))
	if err != nil {
		t.Fatal(err)
	}
	e, status := s.redeem(inv.Token)
	if status != statusOK {
		t.Fatalf("first redeem: status %d", status)
	}
	s.giveBack(e)
	if _, status := s.redeem(inv.Token); status != statusOK {
		t.Fatalf("redeem after the grant was given back: status %d, want ok", status)
	}
	if _, status := s.redeem(inv.Token); status != statusUsed {
		t.Fatalf("third redeem: status %d, want used", status)
	}
}
