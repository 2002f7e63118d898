package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/syncnode/syncnode/relay"
	"github.com/syncnode/syncnode/store"
)

func TestRelayRestartLosesNothing(t *testing.T) {
	g := newGroup(t)
	laptop := g.token("laptop")
	a := g.device(laptop)
	for i := range 20 {
		put(t, a, "tasks", fmt.Sprint(i), fmt.Sprint(i))
	}
	eventually(t, "the relay has every write", func() bool { return count(g.relay.Node(), "tasks") == 20 })
	digest := g.relay.Node().Store().Digest()
	seq := g.relay.Node().Store().Stats().FeedHead

	if err := g.relay.Close(); err != nil {
		t.Fatal(err)
	}
	g.startRelay(func(o *relay.Options) { o.Join = "" })
	if got := g.relay.Node().Store().Digest(); got != digest {
		t.Fatal("the relay's state changed across a restart")
	}
	if got := g.relay.Node().Store().Stats().FeedHead; got != seq {
		t.Fatalf("server seq %d after restart, was %d", got, seq)
	}
	// Tokens survive too.
	if _, err := g.relay.Registry().Authenticate(laptop); err != nil {
		t.Fatalf("a token from before the restart: %v", err)
	}
	b := g.device(g.token("phone"))
	eventually(t, "a new device gets every record", func() bool { return count(b, "tasks") == 20 })
}

func TestOlderRelayBackupLosesNothingDevicesHold(t *testing.T) {
	g := newGroup(t)
	a := g.device(g.token("laptop"))
	put(t, a, "tasks", "early", `1`)
	eventually(t, "the relay has the early write", func() bool { return held(g.relay.Node(), "tasks", "early") })
	var backup bytes.Buffer
	if _, err := g.relay.Node().Store().Backup(&backup); err != nil {
		t.Fatal(err)
	}
	put(t, a, "tasks", "late", `2`)
	eventually(t, "the relay has the late write", func() bool { return held(g.relay.Node(), "tasks", "late") })

	// The relay's disk is lost; it is restored from the older backup.
	if err := g.relay.Close(); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(g.dir, "db")
	if err := os.RemoveAll(db); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(db, &backup, false); err != nil {
		t.Fatal(err)
	}
	g.startRelay(func(o *relay.Options) { o.Join = "" })
	eventually(t, "the relay gets back what only the device held", func() bool { return held(g.relay.Node(), "tasks", "late") })
	if !held(g.relay.Node(), "tasks", "early") {
		t.Error("the restored relay lost a backed-up record")
	}
	eventually(t, "the relay takes writes again after its first sync", func() bool {
		_, err := g.relay.Node().WriteAll(context.Background(), []store.Write{{NS: "tasks", Key: "relay", Value: []byte(`3`)}})
		return err == nil
	})
	eventually(t, "device and relay converge", func() bool { return g.relay.Node().Store().Digest() == a.Store().Digest() })
}
