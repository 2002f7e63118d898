package relay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/relay/httpsync"
)

// thinClient follows a relay's HTTP sync, remembering what it pulled.
type thinClient struct {
	t     *testing.T
	cl    *httpsync.Client
	since uint64
	seen  map[string]httpsync.Change
}

// thin is a thin client without the group's key: it can write only under
// open/.
func (g *testGroup) thin(name string) *thinClient {
	return &thinClient{t: g.t, seen: map[string]httpsync.Change{},
		cl: &httpsync.Client{URL: "http://" + g.relay.HTTPAddr(), Token: g.token(name)}}
}

// thinWithKey is a thin client holding the group's value key.
func (g *testGroup) thinWithKey(name string) *thinClient {
	c := g.thin(name)
	k := seal.Key(g.secret.ValueKey())
	c.cl.Key = &k
	return c
}

// sync pushes changes and pulls everything since the last call, following
// pages until drained.
func (c *thinClient) sync(changes ...httpsync.Push) httpsync.SyncResponse {
	c.t.Helper()
	var last httpsync.SyncResponse
	for first := true; first || last.More; first = false {
		req := httpsync.SyncRequest{Since: c.since}
		if first {
			req.Changes = changes
		}
		var err error
		if last, err = c.cl.Sync(context.Background(), req); err != nil {
			c.t.Fatal(err)
		}
		for _, ch := range last.Changes {
			c.seen[ch.NS+"/"+ch.Key] = ch
		}
		c.since = last.ServerSeq
	}
	return last
}

func TestThinClientAndDeviceExchangeBothWays(t *testing.T) {
	for name, tc := range map[string]struct {
		ns   string
		thin func(*testGroup, string) *thinClient
	}{
		"keyless client, open namespace":  {"open/notes", (*testGroup).thin},
		"client with the key, sealed one": {"notes", (*testGroup).thinWithKey},
	} {
		t.Run(name, func(t *testing.T) { thinExchange(t, tc.ns, tc.thin) })
	}
}

func thinExchange(t *testing.T, ns string, newThin func(*testGroup, string) *thinClient) {
	g := newGroup(t)
	dev := g.device(g.token("laptop"))
	thin := newThin(g, "script")

	res := thin.sync(httpsync.Push{NS: ns, Key: "n1", Value: json.RawMessage(`{"text":"from curl"}`)})
	if len(res.Rejected) != 0 {
		t.Fatalf("push rejected: %+v", res.Rejected)
	}
	eventually(t, "the device gets the thin client's write", func() bool { return has(dev, ns, "n1", `{"text":"from curl"}`) })

	put(t, dev, ns, "n2", `{"text":"from the device"}`)
	eventually(t, "the thin client pulls the device's write", func() bool {
		thin.sync()
		ch, ok := thin.seen[ns+"/n2"]
		return ok && string(ch.Value) == `{"text":"from the device"}`
	})
	if _, err := dev.Delete(context.Background(), ns, "n1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the thin client pulls the device's delete", func() bool {
		thin.sync()
		return thin.seen[ns+"/n1"].Deleted
	})
	thin.sync(httpsync.Push{NS: ns, Key: "n2", Deleted: true})
	eventually(t, "the device sees the thin client's delete", func() bool { return gone(dev, ns, "n2") })

	// A retry of an identical push changes nothing.
	before := thin.since
	thin.sync(httpsync.Push{NS: ns, Key: "n3", Value: json.RawMessage(`1`)})
	seq := thin.since
	thin.since = before
	thin.sync(httpsync.Push{NS: ns, Key: "n3", Value: json.RawMessage(`1`)})
	if thin.since != seq {
		t.Errorf("an identical retry moved server_seq from %d to %d", seq, thin.since)
	}
}

func TestPlaintextInAnEncryptedNamespaceIsRefused(t *testing.T) {
	g := newGroup(t)
	thin := g.thin("script")
	res := thin.sync(
		httpsync.Push{NS: "tasks", Key: "plain", Value: json.RawMessage(`{"oops":"cleartext"}`)},
		httpsync.Push{NS: "open/tasks", Key: "fine", Value: json.RawMessage(`1`)},
	)
	if len(res.Rejected) != 1 || res.Rejected[0].Key != "plain" || !strings.Contains(res.Rejected[0].Reason, "encrypted") {
		t.Fatalf("rejected = %+v, want the plaintext write refused with its reason", res.Rejected)
	}
	if held(g.relay.Node(), "tasks", "plain") {
		t.Error("the relay stored a plaintext value in an encrypted namespace")
	}
	if !held(g.relay.Node(), "open/tasks", "fine") {
		t.Error("the write beside it was lost")
	}
}
