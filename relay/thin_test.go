package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/syncnode/syncnode/relay/httpsync"
)

// thinClient is a curl-like HTTP sync client.
type thinClient struct {
	t     *testing.T
	url   string
	token string
	since uint64
	seen  map[string]httpsync.Change
}

func (g *testGroup) thin(name string) *thinClient {
	return &thinClient{t: g.t, url: "http://" + g.relay.HTTPAddr() + "/v1/sync", token: g.token(name), seen: map[string]httpsync.Change{}}
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
		body, _ := json.Marshal(req)
		hr, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, c.url, bytes.NewReader(body))
		hr.Header.Set("Authorization", "Bearer "+c.token)
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			c.t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			c.t.Fatalf("POST /v1/sync: HTTP %d", res.StatusCode)
		}
		last = httpsync.SyncResponse{}
		err = json.NewDecoder(res.Body).Decode(&last)
		res.Body.Close()
		if err != nil {
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
	g := newGroup(t)
	dev := g.device(g.token("laptop"))
	thin := g.thin("script")

	res := thin.sync(httpsync.Push{NS: "notes", Key: "n1", Value: json.RawMessage(`{"text":"from curl"}`)})
	if len(res.Rejected) != 0 {
		t.Fatalf("push rejected: %+v", res.Rejected)
	}
	eventually(t, "the device gets the thin client's write", func() bool { return has(dev, "notes", "n1", `{"text":"from curl"}`) })

	put(t, dev, "notes", "n2", `{"text":"from the device"}`)
	eventually(t, "the thin client pulls the device's write", func() bool {
		thin.sync()
		ch, ok := thin.seen["notes/n2"]
		return ok && string(ch.Value) == `{"text":"from the device"}`
	})
	if _, err := dev.Delete(context.Background(), "notes", "n1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the thin client pulls the device's delete", func() bool {
		thin.sync()
		return thin.seen["notes/n1"].Deleted
	})
	thin.sync(httpsync.Push{NS: "notes", Key: "n2", Deleted: true})
	eventually(t, "the device sees the thin client's delete", func() bool { return gone(dev, "notes", "n2") })

	// A retry of an identical push changes nothing.
	before := thin.since
	thin.sync(httpsync.Push{NS: "notes", Key: "n3", Value: json.RawMessage(`1`)})
	seq := thin.since
	thin.since = before
	thin.sync(httpsync.Push{NS: "notes", Key: "n3", Value: json.RawMessage(`1`)})
	if thin.since != seq {
		t.Errorf("an identical retry moved server_seq from %d to %d", seq, thin.since)
	}
}
