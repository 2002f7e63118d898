package node

import (
	"path/filepath"
	"testing"

	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/p2p"
)

// TestDefaultListenPortSurvivesRestart: addresses handed out in an invite
// code must stay valid when the inviter restarts. Binding sends no traffic.
func TestDefaultListenPortSurvivesRestart(t *testing.T) {
	dir, err := datadir.Init(filepath.Join(t.TempDir(), "d"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := dir.Identity()
	if err != nil {
		t.Fatal(err)
	}
	secret, err := dir.Secret()
	if err != nil {
		t.Fatal(err)
	}
	cfg := p2p.Config{PrivKey: key, PSK: secret.PSK()}
	h, err := listenP2P(dir, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := tcpPort(h)
	h.Close()
	if first == 0 {
		t.Fatal("no TCP port")
	}
	h, err = listenP2P(dir, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := tcpPort(h); got != first {
		t.Fatalf("restart listened on port %d, want the remembered %d", got, first)
	}
}
