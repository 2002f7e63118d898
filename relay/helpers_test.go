package relay_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/invite"
	"github.com/syncnode/syncnode/relay"
)

const waitTimeout = 30 * time.Second

var loopback = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}}

func quiet() *slog.Logger {
	if os.Getenv("SYNCNODE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// group is one sync group: a secret, and a relay for it.
type testGroup struct {
	t      *testing.T
	secret group.Secret
	relay  *relay.Relay
	dir    string
	listen string // the relay's first listen address, kept across restarts
}

func newGroup(t *testing.T, opts ...func(*relay.Options)) *testGroup {
	t.Helper()
	secret, err := group.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	g := &testGroup{t: t, secret: secret, dir: filepath.Join(t.TempDir(), "relay")}
	g.startRelay(opts...)
	return g
}

func (g *testGroup) startRelay(opts ...func(*relay.Options)) {
	g.t.Helper()
	o := relay.Options{
		DataDir:        g.dir,
		Join:           invite.EncodeRelay(g.secret.Network()),
		Listen:         []string{"/ip4/127.0.0.1/tcp/0"},
		API:            "127.0.0.1:0",
		HTTP:           "127.0.0.1:0",
		SyncInterval:   -1,
		ScoreWhitelist: loopback,
		Logger:         quiet(),
	}
	for _, f := range opts {
		f(&o)
	}
	if g.listen != "" {
		o.Listen = []string{g.listen}
	}
	r, err := relay.Start(o)
	if err != nil {
		g.t.Fatal(err)
	}
	g.relay = r
	if g.listen == "" {
		g.listen = r.Node().Host().Network().ListenAddresses()[0].String()
	}
	g.t.Cleanup(func() { r.Close() })
}

// token creates a device token on the relay.
func (g *testGroup) token(name string) string {
	g.t.Helper()
	tok, err := g.relay.Registry().Create(name)
	if err != nil {
		g.t.Fatal(err)
	}
	return tok
}

// device starts a device of the group that knows only the relay.
func (g *testGroup) device(token string, opts ...func(*node.Options)) *node.Node {
	g.t.Helper()
	return g.deviceIn(filepath.Join(g.t.TempDir(), "device"), token, opts...)
}

func (g *testGroup) deviceIn(dir, token string, opts ...func(*node.Options)) *node.Node {
	g.t.Helper()
	if _, err := datadir.Open(dir); err != nil {
		if _, err := datadir.Init(dir, &g.secret); err != nil {
			g.t.Fatal(err)
		}
	}
	o := node.Options{
		DataDir:        dir,
		Listen:         []string{"/ip4/127.0.0.1/tcp/0"},
		API:            "127.0.0.1:0",
		Relay:          g.relay.Addrs()[0].String(),
		RelayToken:     token,
		SyncInterval:   -1,
		ScoreWhitelist: loopback,
		Logger:         quiet(),
	}
	for _, f := range opts {
		f(&o)
	}
	n, _, err := node.Start(o)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { n.Close() })
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func put(t *testing.T, n *node.Node, ns, key, value string) {
	t.Helper()
	if _, err := n.Put(context.Background(), ns, key, []byte(value)); err != nil {
		t.Fatal(err)
	}
}

func has(n *node.Node, ns, key, value string) bool {
	rec, err := n.Get(ns, key)
	return err == nil && !rec.Deleted && string(rec.Value) == value
}

// held reports whether n holds a live record for the key, whatever its
// value: on the relay, values are sealed and it cannot read them.
// count returns how many live records n holds in ns.
func count(n *node.Node, ns string) int {
	recs, _, err := n.List(ns, "", "", 1000)
	if err != nil {
		return -1
	}
	return len(recs)
}

func held(n *node.Node, ns, key string) bool {
	rec, err := n.Get(ns, key)
	return err == nil && !rec.Deleted
}

func gone(n *node.Node, ns, key string) bool {
	rec, err := n.Get(ns, key)
	return err != nil || rec.Deleted
}
