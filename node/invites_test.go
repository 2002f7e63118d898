package node_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/invite"
)

// TestInviteHandsOutSecretOnce: a running device's invite code, redeemed,
// gives the group secret and the device's own addresses; the code itself
// holds neither the secret nor the device's identity.
func TestInviteHandsOutSecretOnce(t *testing.T) {
	secret, _ := group.NewSecret()
	a := device(t, secret)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	inv, err := a.Invite(ctx, invite.DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(inv.Expires); d > invite.DefaultTTL || d < invite.DefaultTTL-time.Minute {
		t.Errorf("expires in %v, want about %v", d, invite.DefaultTTL)
	}
	if strings.Contains(inv.Code, secret.String()) {
		t.Fatal("the code holds the group secret")
	}
	code, err := invite.Decode(inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	if code.Peer == a.ID() {
		t.Fatal("the invite host has the node's identity")
	}
	for _, addr := range code.Addrs {
		if ip, _ := addr.ValueForProtocol(ma.P_IP4); ip != "127.0.0.1" {
			t.Errorf("invite host address %s is not on the node's loopback listen IP", addr)
		}
	}
	joined, err := invite.Redeem(ctx, inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	if joined.Secret != secret {
		t.Fatal("redeemed another secret")
	}
	if len(joined.Addrs) == 0 || joined.Addrs[0].String() != fullAddr(a) {
		t.Errorf("redeemed addrs %v, want %s first", joined.Addrs, fullAddr(a))
	}
	// The invite host stays up until the code expires, so a second try
	// hears why it fails.
	if _, err := invite.Redeem(ctx, inv.Code); !errors.Is(err, invite.ErrUsed) {
		t.Fatalf("second redeem: %v, want ErrUsed", err)
	}
}

func TestInviteBadTTL(t *testing.T) {
	secret, _ := group.NewSecret()
	a := device(t, secret)
	if _, err := a.Invite(context.Background(), time.Second); !errors.Is(err, invite.ErrTTL) {
		t.Fatalf("1s invite: %v, want ErrTTL", err)
	}
}

// TestRelayCannotInvite: a relay's data dir holds no secret to hand out.
func TestRelayCannotInvite(t *testing.T) {
	secret, _ := group.NewSecret()
	dir := filepath.Join(t.TempDir(), "relay")
	if _, err := datadir.InitRelay(dir, secret.Network()); err != nil {
		t.Fatal(err)
	}
	n, _, err := node.Start(node.Options{
		DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, API: "127.0.0.1:0",
		SyncInterval: -1, Hub: true, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Invite(context.Background(), invite.DefaultTTL); !errors.Is(err, api.ErrCannotInvite) {
		t.Fatalf("relay invite: %v, want ErrCannotInvite", err)
	}
}
