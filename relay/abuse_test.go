package relay_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/syncnode/syncnode/relay/httpsync"
)

// httpFrom is an HTTP client whose connections come from the loopback
// address src, so that the relay sees a distinct source.
func httpFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

func postSync(t *testing.T, c *http.Client, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

func TestWrongTokenFloodIsLimitedAndGoodClientsServed(t *testing.T) {
	g := newGroup(t)
	url := "http://" + g.relay.HTTPAddr() + "/v1/sync"
	good := g.token("script")
	neighbour := g.token("neighbour")
	attacker := httpFrom("127.0.0.2")
	// A client behind the attacker's address, already known to the relay.
	if code, body := postSync(t, attacker, url, neighbour, `{}`); code != http.StatusOK {
		t.Fatalf("neighbour before the flood: %d %s", code, body)
	}
	codes := map[int]int{}
	for i := range 1000 {
		code, body := postSync(t, attacker, url, "snr_00112233445566"+strings.Repeat("7", i%3)+"_x", `{}`)
		codes[code]++
		if !strings.Contains(body, `"error"`) {
			t.Fatalf("refusal without an error body: %d %s", code, body)
		}
	}
	if codes[http.StatusOK] != 0 || codes[http.StatusUnauthorized] == 0 || codes[http.StatusTooManyRequests] < 900 {
		t.Fatalf("1000 wrong tokens answered %v: want a few 401 then 429", codes)
	}
	code, body := postSync(t, httpFrom("127.0.0.3"), url, good, `{"changes":[{"ns":"open/t","key":"k","value":1}]}`)
	if code != http.StatusOK {
		t.Fatalf("a good client during the flood got %d %s", code, body)
	}
	if code, body := postSync(t, attacker, url, neighbour, `{}`); code != http.StatusOK {
		t.Fatalf("a known client sharing the attacker's address got %d %s", code, body)
	}
}

func TestBadSyncRequestsChangeNothing(t *testing.T) {
	g := newGroup(t)
	url := "http://" + g.relay.HTTPAddr() + "/v1/sync"
	tok := g.token("script")
	c := httpFrom("127.0.0.4")
	if code, body := postSync(t, c, url, tok, `{"changes":[{"ns":"open/t","key":"kept","value":"acked"}]}`); code != http.StatusOK {
		t.Fatalf("setup push: %d %s", code, body)
	}
	head := g.relay.Node().Store().Stats().FeedHead
	huge := `{"changes":[{"ns":"t","key":"big","value":"` + strings.Repeat("x", 9<<20) + `"}]}`
	for name, tc := range map[string]struct {
		token, body string
		want        int
	}{
		"no token":       {"", `{}`, http.StatusUnauthorized},
		"malformed json": {tok, `{"since":`, http.StatusBadRequest},
		"unknown field":  {tok, `{"sinse":0}`, http.StatusBadRequest},
		"absurd since":   {tok, `{"since":18446744073709551615}`, http.StatusBadRequest},
		"negative since": {tok, `{"since":-1}`, http.StatusBadRequest},
		"oversized body": {tok, huge, http.StatusRequestEntityTooLarge},
	} {
		code, body := postSync(t, c, url, tc.token, tc.body)
		if code != tc.want || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want %d with an error", name, code, body, tc.want)
		}
	}
	if got := g.relay.Node().Store().Stats().FeedHead; got != head {
		t.Errorf("bad requests moved server_seq from %d to %d", head, got)
	}
	if !has(g.relay.Node(), "open/t", "kept", `"acked"`) {
		t.Error("an acknowledged record is gone")
	}
}

func TestConnectionFloodDoesNotStopService(t *testing.T) {
	g := newGroup(t)
	dev := g.device(g.token("laptop"))
	put(t, dev, "tasks", "before", `1`)
	eventually(t, "relay has the write", func() bool { return held(g.relay.Node(), "tasks", "before") })

	p2pAddr, err := manet.ToNetAddr(g.relay.Node().Host().Network().ListenAddresses()[0])
	if err != nil {
		t.Fatal(err)
	}
	// Connections that never complete a handshake, to both ports.
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.5")}, Timeout: time.Second}
	for _, addr := range []string{p2pAddr.String(), g.relay.HTTPAddr()} {
		for range 200 {
			c, err := d.Dial("tcp", addr)
			if err != nil {
				continue // refused under load is fine too
			}
			conns = append(conns, c)
		}
	}
	// The relay keeps serving its paired device and thin clients. (Off
	// loopback, libp2p's resource manager also holds each IPv4 address to
	// 8 connections; loopback is exempt, so this flood stands for one from
	// many addresses, and a new device gets in once the half-open
	// connections time out, within libp2p's 15 s handshake timeout.)
	put(t, dev, "tasks", "during", `2`)
	eventually(t, "relay gets a write during the flood", func() bool { return held(g.relay.Node(), "tasks", "during") })
	second := g.device(g.token("phone"))
	eventually(t, "a new device pairs and catches up during the flood", func() bool { return has(second, "tasks", "during", `2`) })
	thin := g.thin("script")
	thin.sync(httpsync.Push{NS: "open/tasks", Key: "thin", Value: json.RawMessage(`3`)})
	eventually(t, "the device gets a thin client's write", func() bool { return has(dev, "open/tasks", "thin", `3`) })
}
