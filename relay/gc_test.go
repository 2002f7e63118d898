package relay_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/clocktest"
	"github.com/syncnode/syncnode/relay"
)

// fastAcks makes a device exchange with the relay often, so tests need not
// wait for the default period.
func fastAcks(o *node.Options) { o.RelayInterval = 100 * time.Millisecond }

func tombstones(n *node.Node) int64 { return n.Store().Stats().Tombstones }

func TestTombstoneCollectedOnceEveryDeviceHasSeenIt(t *testing.T) {
	g := newGroup(t, func(o *relay.Options) { o.GCInterval = time.Hour })
	a := g.deviceIn(filepath.Join(t.TempDir(), "a"), g.token("laptop"), fastAcks)
	b := g.deviceIn(filepath.Join(t.TempDir(), "b"), g.token("phone"), fastAcks)
	ctx := context.Background()

	put(t, a, "tasks", "k", `1`)
	eventually(t, "phone has k", func() bool { return has(b, "tasks", "k", `1`) })
	if _, err := a.Delete(ctx, "tasks", "k"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "everyone holds the tombstone", func() bool {
		return tombstones(a) == 1 && tombstones(b) == 1 && tombstones(g.relay.Node()) == 1
	})
	// Once both devices have acknowledged the delete, the relay collects
	// it, and so do they.
	eventually(t, "the relay collects the tombstone", func() bool {
		n, err := g.relay.Collect(ctx)
		return err == nil && n == 1
	})
	eventually(t, "devices collect it too", func() bool { return tombstones(a) == 0 && tombstones(b) == 0 })
	for name, n := range map[string]*node.Node{"laptop": a, "phone": b, "relay": g.relay.Node()} {
		if !gone(n, "tasks", "k") {
			t.Errorf("%s: k is back", name)
		}
	}
}

func TestDeviceAwayPastHorizonResyncsInsteadOfResurrecting(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const horizon = 7 * 24 * time.Hour
	g := newGroup(t, func(o *relay.Options) {
		o.GCInterval, o.Horizon, o.Now = time.Hour, horizon, clk.Now
	})
	ctx := context.Background()
	a := g.deviceIn(filepath.Join(t.TempDir(), "a"), g.token("laptop"), fastAcks)
	awayDir := filepath.Join(t.TempDir(), "away")
	away := g.deviceIn(awayDir, g.token("tablet"), fastAcks)

	put(t, a, "tasks", "doomed", `"old"`)
	put(t, a, "tasks", "kept", `"yes"`)
	eventually(t, "the tablet has both", func() bool {
		return has(away, "tasks", "doomed", `"old"`) && has(away, "tasks", "kept", `"yes"`)
	})
	// The tablet goes away holding doomed; meanwhile it is deleted.
	if err := away.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Delete(ctx, "tasks", "doomed"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the relay has the tombstone", func() bool { return gone(g.relay.Node(), "tasks", "doomed") })

	// Past the horizon the tablet no longer holds collection back.
	clk.Advance(horizon + time.Hour)
	eventually(t, "the relay collects the tombstone without the tablet", func() bool {
		n, err := g.relay.Collect(ctx)
		return err == nil && n == 1
	})

	// The tablet returns with doomed still alive. It must not bring it
	// back, and must drop it itself.
	back := g.deviceIn(awayDir, "", fastAcks)
	put(t, back, "tasks", "written-later", `"new"`)
	eventually(t, "the tablet drops the collected record", func() bool { return gone(back, "tasks", "doomed") })
	eventually(t, "the tablet's own new write reaches the laptop", func() bool { return has(a, "tasks", "written-later", `"new"`) })
	if !has(back, "tasks", "kept", `"yes"`) {
		t.Error("the resync dropped a record the relay still holds")
	}
	for name, n := range map[string]*node.Node{"laptop": a, "relay": g.relay.Node()} {
		if !gone(n, "tasks", "doomed") {
			t.Errorf("%s: the deleted record came back", name)
		}
	}
	eventually(t, "the relay clears the tablet's resync mark", func() bool {
		for _, d := range g.relay.Registry().List() {
			if d.Name == "tablet" {
				return !d.Resync
			}
		}
		return false
	})
}

func TestExpiredTokenIsRefusedAndCutsTheDeviceOff(t *testing.T) {
	clk := clocktest.New(time.Now())
	g := newGroup(t, func(o *relay.Options) { o.Now = clk.Now })
	reg := g.relay.Registry()
	short, err := reg.CreateUntil("visitor", clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dev := g.device(short, fastAcks)
	put(t, dev, "tasks", "while-valid", `1`)
	eventually(t, "the relay takes writes while the token is valid", func() bool { return held(g.relay.Node(), "tasks", "while-valid") })

	clk.Advance(2 * time.Hour)
	eventually(t, "the expired device is cut off", func() bool {
		return len(g.relay.Node().Host().Network().ConnsToPeer(dev.ID())) == 0
	})
	put(t, dev, "tasks", "after-expiry", `2`)
	if _, err := reg.Authenticate(short); err == nil {
		t.Error("an expired token still authenticates")
	}
	late, err := reg.CreateUntil("late", clk.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	other := g.device(late)
	eventually(t, "a device with an expired token is refused", func() bool {
		st, err := other.Status(context.Background())
		return err == nil && st.Relay != nil && st.Relay.Error != ""
	})
	if _, err := g.relay.Node().Get("tasks", "after-expiry"); err == nil {
		t.Error("the relay took a write made after the token expired")
	}
}
