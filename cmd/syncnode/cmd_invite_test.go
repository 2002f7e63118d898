package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/invite"
)

// inviteCode asks the running node of data for a code.
func inviteCode(t *testing.T, data string, args ...string) string {
	t.Helper()
	res := decodeJSON[struct {
		Code    string
		Expires time.Time
	}](t, mustCLI(t, append([]string{"invite", "--json", "--data", data}, args...)...))
	if res.Code == "" || res.Expires.IsZero() {
		t.Fatalf("invite --json gave %+v", res)
	}
	return res.Code
}

// joinFails runs join, which must fail with want on stderr and leave no
// device behind.
func joinFails(t *testing.T, code, data, want string) {
	t.Helper()
	_, stderr, err := runCLI(t, "", "join", code, "--data", data)
	if err == nil || !strings.Contains(stderr, want) {
		t.Fatalf("join: err=%v stderr=%q, want it to say %q", err, stderr, want)
	}
	if _, err := datadir.Open(data); err == nil {
		t.Fatalf("a failed join left a device in %s", data)
	}
}

// TestInviteCodeWorksOnce: a code from the running node joins one device;
// the same code again is refused as used. The code holds no secret.
func TestInviteCodeWorksOnce(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a")
	startNode(t, a)
	code := inviteCode(t, a)

	secretHex, err := os.ReadFile(filepath.Join(a, datadir.SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := datadir.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := dir.Secret()
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{strings.TrimSpace(string(secretHex)), strings.ToUpper(secret.String()),
		base64.RawURLEncoding.EncodeToString(secret[:]), base64.StdEncoding.EncodeToString(secret[:]), string(secret[:])} {
		if strings.Contains(code, form) {
			t.Fatalf("the invite code holds the group secret (%q)", form)
		}
	}

	b := filepath.Join(root, "b")
	res := decodeJSON[struct {
		ID, Data string
		Peers    []string
	}](t, mustCLI(t, "join", code, "--data", b, "--json"))
	if res.ID == "" || res.Data != b || len(res.Peers) == 0 {
		t.Fatalf("join --json = %+v", res)
	}
	status := decodeJSON[struct{ ID string }](t, mustCLI(t, "status", "--json", "--data", a))
	for _, p := range res.Peers {
		if _, id := peer.SplitAddr(ma.StringCast(p)); id.String() != status.ID {
			t.Errorf("joined peer %s is not the inviting node %s", p, status.ID)
		}
	}
	bDir, err := datadir.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := bDir.Secret(); err != nil || got != secret {
		t.Fatalf("b's secret: %v, want the group's", err)
	}

	joinFails(t, code, filepath.Join(root, "c"), "already used")
	// b holds a device already: join refuses before spending a code.
	second := inviteCode(t, a)
	if _, stderr, err := runCLI(t, "", "join", second, "--data", b); err == nil || !strings.Contains(stderr, "already holds a device") {
		t.Fatalf("join into b again: err=%v stderr=%q, want a refusal", err, stderr)
	}
	// A data dir that cannot be made: join refuses before spending it too.
	blocker := filepath.Join(root, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCLI(t, "", "join", second, "--data", filepath.Join(blocker, "sub")); err == nil || !strings.Contains(stderr, "still good") {
		t.Fatalf("join into an impossible dir: err=%v stderr=%q, want a refusal that keeps the code", err, stderr)
	}
	mustCLI(t, "join", second, "--data", filepath.Join(root, "d"))
}

// TestInviteNeedsRunningNode: invites come from the running node only.
func TestInviteNeedsRunningNode(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	mustCLI(t, "init", "--data", a)
	_, stderr, err := runCLI(t, "", "invite", "--data", a)
	if err == nil || !strings.Contains(stderr, "start the node first") || !strings.Contains(stderr, "syncnode run --data "+a) {
		t.Fatalf("invite with no node: err=%v stderr=%q, want advice to start it", err, stderr)
	}
	// A relay code needs no running node.
	if out := mustCLI(t, "invite", "--relay", "--data", a); !strings.HasPrefix(out, invite.RelayPrefix) {
		t.Fatalf("invite --relay = %q", out)
	}
}

// TestInviteTTL: --ttl sets the expiry, within bounds.
func TestInviteTTL(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	startNode(t, a)
	before := time.Now()
	res := decodeJSON[struct{ Expires time.Time }](t, mustCLI(t, "invite", "--json", "--ttl", "2h", "--data", a))
	after := time.Now()
	// The node stamps the expiry between before and after, to the second
	// or finer.
	if res.Expires.Before(before.Add(2*time.Hour).Truncate(time.Second)) || res.Expires.After(after.Add(2*time.Hour)) {
		t.Errorf("a 2h code expires at %v, want 2h after %v..%v", res.Expires, before, after)
	}
	if out := mustCLI(t, "invite", "--data", a); !strings.Contains(out, "works once") || !strings.Contains(out, "syncnode join syncnode1-") {
		t.Errorf("invite text output %q", out)
	}
	for _, ttl := range []string{"10s", "48h"} {
		_, stderr, err := runCLI(t, "", "invite", "--ttl", ttl, "--data", a)
		if err == nil || !strings.Contains(stderr, "1m0s to 24h0m0s") {
			t.Errorf("invite --ttl %s: err=%v stderr=%q, want the bounds", ttl, err, stderr)
		}
	}
}

// TestJoinBadCodes: each bad code gets its own clear error, before anything
// is dialled or written.
func TestJoinBadCodes(t *testing.T) {
	root := t.TempDir()
	id, err := peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := invite.Encode(invite.Invite{
		Expires: time.Now().Add(-time.Minute),
		Peer:    id,
		Addrs:   []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	v1 := "syncnode1-AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIGFkCs" // a version-1 code, which held the secret
	for name, tc := range map[string]struct{ code, want string }{
		"expired":      {expired, "expired"},
		"older format": {v1, "older syncnode: ask for a new code"},
		"not a code":   {"hello", "not a syncnode join code"},
		"a relay code": {invite.RelayPrefix + "AAAA", "not a syncnode join code"},
		"typo":         {expired[:30] + "x" + expired[31:], "mistyped"},
		"cut short":    {expired[:len(expired)-10], "mistyped or cut short"},
	} {
		t.Run(name, func(t *testing.T) {
			joinFails(t, tc.code, filepath.Join(root, strings.ReplaceAll(name, " ", "-")), tc.want)
		})
	}
}
