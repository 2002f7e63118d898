package testnet_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/netnstest"
	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/relay"
)

const (
	// relayPort is the relay's TCP port, on both of its links and in every
	// run: the devices' --relay addresses must survive a restart.
	relayPort = "4001"
	// relayConverge bounds the time a write takes to cross the relay.
	relayConverge = 20 * time.Second
	// relayRedial bounds the time a device takes to come back to a
	// restarted relay; it redials an unreachable relay every 5 s.
	relayRedial = 20 * time.Second
	// relayStopTimeout bounds a clean shutdown after SIGTERM.
	relayStopTimeout = 20 * time.Second
	// relayReachEnv and relayUnreachEnv list, space-separated, the
	// host:port addresses a child of TestRelayNetns must and must not be
	// able to connect to from its namespace.
	relayReachEnv   = "RELAYNETNS_REACH"
	relayUnreachEnv = "RELAYNETNS_UNREACH"
)

// TestRelayNetns runs the syncnode binary as a relay R and two devices A and
// B, each in a network namespace of its own. A and B share no network: each
// has a link to R alone, and R does not forward, so they can sync only
// through the relay. It checks pairing with tokens made on the running
// relay, sync both ways including a delete, that an unpaired device gets
// and gives nothing, that a revoked device is cut off at once, and that a
// relay restart loses nothing.
func TestRelayNetns(t *testing.T) {
	if netnstest.IsChild(t) {
		netnstest.RequireIsolated(t)
		relayDialChild(t)
		return
	}
	netnstest.Require(t)
	bin := lanBuild(t)
	star := netnstest.NewStar(t, 2)
	root := t.TempDir()
	host := func(name, ns string) *lanHost {
		return &lanHost{name: name, ns: ns, bin: bin, data: filepath.Join(root, name)}
	}
	r := host("R", star.Hub)
	a := host("A", star.Spokes[0].NS)
	b := host("B", star.Spokes[1].NS)
	c := host("C", star.Spokes[0].NS) // unpaired, beside A
	start := time.Now()
	step := start
	lap := func(what string) {
		t.Logf("%-48s %v", what, time.Since(step).Round(time.Millisecond))
		step = time.Now()
	}

	// 1. The relay joins A's group with a relay code.
	a.id = a.initialize(t, "init")
	var relayCode struct {
		Code string `json:"code"`
	}
	relayJSON(t, a, &relayCode, "invite", "--relay")
	relayRun := func(args ...string) *relayDaemon {
		return startDaemon(t, r, append([]string{"relay", "--listen", "/ip4/0.0.0.0/tcp/" + relayPort, "--api", "127.0.0.1:0", "--json"}, args...)...)
	}
	rd := relayRun("--join", relayCode.Code)
	var addrs struct {
		Addrs []string `json:"addrs"`
	}
	relayJSON(t, r, &addrs, "relay", "addr")
	toA := relayAddrOn(t, addrs.Addrs, star.Spokes[0].HubIP)
	toB := relayAddrOn(t, addrs.Addrs, star.Spokes[1].HubIP)
	lap("relay joined and running")

	// 2. Tokens come from the running relay; B and C join A's group with
	// single-use codes from the running A. B redeems its code from A's
	// network, as a phone joins at home before it leaves; C sits beside
	// A. join keeps A's addresses as static peers: they are dropped, so
	// that B and C meet A only through the relay.
	laptop, phone := relayToken(t, r, "laptop"), relayToken(t, r, "phone")
	// device runs h's node with the relay; an empty token means none.
	device := func(h *lanHost, ip, relayAddr, token string) {
		args := []string{"run", "--no-mdns", "--listen", "/ip4/" + ip + "/tcp/0", "--api", "127.0.0.1:0", "--relay", relayAddr}
		if token != "" {
			args = append(args, "--relay-token", token)
		}
		startDaemon(t, h, args...)
	}
	device(a, star.Spokes[0].IP, toA, laptop)
	bAtHome := *b
	bAtHome.ns = a.ns
	b.id = bAtHome.initialize(t, "join", lanInvite(t, a))
	c.id = c.initialize(t, "join", lanInvite(t, a))
	for _, h := range []*lanHost{b, c} {
		if err := os.Remove(filepath.Join(h.data, node.PeersFile)); err != nil {
			t.Fatal(err)
		}
	}
	lap("tokens created, A running, B and C joined")

	// 3. A and B pair with the relay and sync through it, both ways.
	device(b, star.Spokes[1].IP, toB, phone)
	for h, name := range map[*lanHost]string{a: "laptop", b: "phone"} {
		lanWaitUntil(t, time.Now().Add(relayConverge), h.name+" to pair as "+name, func() (bool, string) {
			rl := h.status(t).Relay
			return rl != nil && rl.Connected && rl.Device == name && rl.Error == "", fmt.Sprintf("relay link %+v", rl)
		})
	}
	devs := relayDevices(t, r)
	if devs["laptop"].Peer != a.id || devs["phone"].Peer != b.id {
		t.Fatalf("relay pairs laptop with %q and phone with %q, want A %s and B %s", devs["laptop"].Peer, devs["phone"].Peer, a.id, b.id)
	}
	lap("A and B paired")
	relayCheckReach(t, star, a, b)
	lap("A and B reach R and not each other")

	want := map[string]string{}
	put := func(h *lanHost, key string) {
		t.Helper()
		value := fmt.Sprintf(`{"by":%q,"key":%q}`, h.name, key)
		h.mustRun(t, "put", lanNS, key, value)
		want[key] = value
	}
	del := func(h *lanHost, key string) {
		t.Helper()
		h.mustRun(t, "del", lanNS, key)
		delete(want, key)
	}
	converge := func(what string, hosts ...*lanHost) {
		t.Helper()
		lanWaitUntil(t, time.Now().Add(relayConverge), what, func() (bool, string) {
			for _, h := range hosts {
				got := h.records(t)
				if h == r {
					// The relay holds the same keys, with values sealed
					// end to end: it cannot read them.
					if !sameSealedKeys(got, want) {
						return false, fmt.Sprintf("relay has %v, want sealed values for the keys of %v", got, want)
					}
					continue
				}
				if !maps.Equal(got, want) {
					return false, fmt.Sprintf("%s has %v, want %v", h.name, got, want)
				}
			}
			return true, ""
		})
	}
	put(a, "a1")
	put(a, "a2")
	put(b, "b1")
	put(b, "b2")
	converge("A's and B's writes to cross the relay", a, b, r)
	lap("writes on A and B crossed the relay")
	del(a, "b1")
	del(b, "a1")
	converge("A's and B's deletes to cross the relay", a, b, r)
	for _, h := range []*lanHost{a, b} {
		for _, key := range []string{"a1", "b1"} {
			if stdout, _, err := h.run(t, "get", lanNS, key); err == nil {
				t.Errorf("%s: get of deleted %s succeeded: %s", h.name, key, stdout)
			}
		}
	}
	lap("deletes on A and B crossed the relay")

	// 4. An unpaired device reaches the relay, is refused, and neither
	// gets nor gives a record.
	device(c, star.Spokes[0].IP, toA, "")
	lanWaitUntil(t, time.Now().Add(relayConverge), "C to be refused by the relay", func() (bool, string) {
		rl := c.status(t).Relay
		return rl != nil && strings.Contains(rl.Error, "not paired"), fmt.Sprintf("relay link %+v", rl)
	})
	c.mustRun(t, "put", lanNS, "c1", `{"by":"C"}`)
	put(a, "a3") // a marker: once it is on B, c1 would be too
	converge("A's write after C's to reach B", a, b, r)
	if got := c.records(t); len(got) != 1 || got["c1"] == "" {
		t.Errorf("unpaired C has records %v, want its own c1 alone", got)
	}
	for _, d := range relayDevices(t, r) {
		if d.Peer == c.id {
			t.Errorf("relay paired unpaired C as %+v", d)
		}
	}
	lap("unpaired C refused, got and gave nothing")

	// 5. Revoking B cuts it off at once: its later writes reach neither
	// the relay nor A, and it gets none of A's.
	r.mustRun(t, "relay", "token", "revoke", "phone")
	lanWaitUntil(t, time.Now().Add(relayConverge), "B to lose the relay and say why", func() (bool, string) {
		rl := b.status(t).Relay
		return rl != nil && !rl.Connected && rl.Error != "", fmt.Sprintf("relay link %+v", rl)
	})
	t.Logf("B's relay link after the revocation: %+v", *b.status(t).Relay)
	b.mustRun(t, "put", lanNS, "b3", `{"by":"B","revoked":true}`)
	put(a, "a4") // a marker: once it is on the relay, b3 would be too
	converge("A's write after the revocation to reach the relay", a, r)
	if got := b.records(t); got["a4"] != "" || got["b3"] == "" {
		t.Errorf("revoked B has %v, want b3 and not a4", got)
	}
	if d := relayDevices(t, r)["phone"]; !d.Revoked || d.RevokedAt == nil {
		t.Errorf("relay lists phone as %+v, want revoked", d)
	}
	lap("revoked B cut off")

	// 6. A relay restart loses nothing, and A comes back to it.
	before := r.records(t)
	rd.stop(t)
	lap("relay stopped by SIGTERM")
	relayRun()
	lap("relay restarted without --join")
	if got := r.records(t); !maps.Equal(got, before) {
		t.Fatalf("relay lost records in its restart: has %v, had %v", got, before)
	}
	put(a, "a5")
	lanWaitUntil(t, time.Now().Add(relayRedial), "A's write after the restart to reach the relay", func() (bool, string) {
		got := r.records(t)
		return sameSealedKeys(got, want), fmt.Sprintf("relay has %v, want sealed values for the keys of %v", got, want)
	})
	lap("A's write reached the restarted relay")
	t.Logf("%-48s %v", "total", time.Since(start).Round(time.Millisecond))
}

// relayDaemon is a long-running syncnode process of the test, in its
// host's namespace.
type relayDaemon struct {
	h    *lanHost
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and err is set
	err  error
}

// startDaemon runs `syncnode args... --data DIR` in h's namespace, appending
// its output to h's log, and waits until its API answers. The process is
// killed when t ends, if it still runs.
func startDaemon(t *testing.T, h *lanHost, args ...string) *relayDaemon {
	t.Helper()
	h.log = h.data + ".log"
	logf, err := os.OpenFile(h.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// A restarted daemon appends to the same log; show each run its part.
	offset, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		t.Fatal(err)
	}
	d := &relayDaemon{h: h, done: make(chan struct{})}
	d.cmd = netnstest.Command(t.Context(), h.ns, h.bin, append(args, "--data", h.data)...)
	d.cmd.Env = lanEnv()
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("%s: start syncnode %s: %v", h.name, args[0], err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			out, _ := os.ReadFile(h.log)
			t.Logf("%s (%s) syncnode %s output:\n%s", h.name, h.id, args[0], out[min(offset, int64(len(out))):])
		}
	})
	lanWaitUntil(t, time.Now().Add(20*time.Second), h.name+"'s API", func() (bool, string) {
		select {
		case <-d.done:
			t.Fatalf("%s: syncnode %s exited: %v", h.name, args[0], d.err)
		default:
		}
		_, stderr, err := h.run(t, "status")
		return err == nil, stderr
	})
	return d
}

// stop sends the process SIGTERM and waits, bounded, for a clean exit.
func (d *relayDaemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: SIGTERM: %v", d.h.name, err)
	}
	select {
	case <-d.done:
		if d.err != nil {
			t.Errorf("%s: exit after SIGTERM: %v", d.h.name, d.err)
		}
	case <-time.After(relayStopTimeout):
		t.Fatalf("%s: still running %v after SIGTERM", d.h.name, relayStopTimeout)
	}
}

// relayJSON runs a command with --json on h and decodes its output into v.
func relayJSON(t *testing.T, h *lanHost, v any, args ...string) {
	t.Helper()
	stdout, _ := h.mustRun(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("%s: %s --json = %q: %v", h.name, strings.Join(args, " "), stdout, err)
	}
}

// relayToken creates a device token on the relay r.
func relayToken(t *testing.T, r *lanHost, name string) string {
	t.Helper()
	var tok relay.NewToken
	relayJSON(t, r, &tok, "relay", "token", "create", "--name", name)
	if tok.Name != name || tok.Token == "" {
		t.Fatalf("token create --name %s = %+v", name, tok)
	}
	return tok.Token
}

// relayDevices lists the relay's device tokens by name.
func relayDevices(t *testing.T, r *lanHost) map[string]relay.Device {
	t.Helper()
	var res struct {
		Devices []relay.Device `json:"devices"`
	}
	relayJSON(t, r, &res, "relay", "token", "list")
	out := make(map[string]relay.Device, len(res.Devices))
	for _, d := range res.Devices {
		out[d.Name] = d
	}
	return out
}

// relayAddrOn returns the address among addrs that is on the IPv4
// address ip.
func relayAddrOn(t *testing.T, addrs []string, ip string) string {
	t.Helper()
	i := slices.IndexFunc(addrs, func(s string) bool {
		host, _, _ := net.SplitHostPort(relayHostPort(t, s))
		return host == ip
	})
	if i < 0 {
		t.Fatalf("no address on %s among %v", ip, addrs)
	}
	return addrs[i]
}

// relayHostPort returns the host:port of a /ip4/.../tcp/... multiaddr, or
// "" for any other.
func relayHostPort(t *testing.T, s string) string {
	t.Helper()
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	ip, err1 := m.ValueForProtocol(ma.P_IP4)
	port, err2 := m.ValueForProtocol(ma.P_TCP)
	if err1 != nil || err2 != nil {
		return ""
	}
	return net.JoinHostPort(ip, port)
}

// relayListenAddr returns the TCP address h's running node listens on.
func relayListenAddr(t *testing.T, h *lanHost) string {
	t.Helper()
	st := h.status(t)
	for _, s := range st.Addrs {
		if hp := relayHostPort(t, s); hp != "" {
			return hp
		}
	}
	t.Fatalf("%s listens on no TCP address: %v", h.name, st.Addrs)
	return ""
}

// relayCheckReach checks, with TCP connections from each namespace, that
// A's and B's listening addresses are live, reached from the relay's
// namespace, and that each device reaches the relay but not the other.
func relayCheckReach(t *testing.T, star netnstest.Star, a, b *lanHost) {
	t.Helper()
	toA, toB := relayListenAddr(t, a), relayListenAddr(t, b)
	netnstest.RunChild(t, star.Hub, relayReachEnv+"="+toA+" "+toB)
	netnstest.RunChild(t, a.ns, relayReachEnv+"="+net.JoinHostPort(star.Spokes[0].HubIP, relayPort), relayUnreachEnv+"="+toB)
	netnstest.RunChild(t, b.ns, relayReachEnv+"="+net.JoinHostPort(star.Spokes[1].HubIP, relayPort), relayUnreachEnv+"="+toA)
}

// relayDialChild is a child of TestRelayNetns: it connects to every
// address in relayReachEnv and fails to connect to every address in
// relayUnreachEnv.
func relayDialChild(t *testing.T) {
	d := net.Dialer{Timeout: 5 * time.Second}
	for _, addr := range strings.Fields(os.Getenv(relayReachEnv)) {
		c, err := d.Dial("tcp4", addr)
		if err != nil {
			t.Errorf("dial %s: %v", addr, err)
			continue
		}
		c.Close()
		t.Logf("reached %s", addr)
	}
	for _, addr := range strings.Fields(os.Getenv(relayUnreachEnv)) {
		c, err := d.Dial("tcp4", addr)
		if err == nil {
			c.Close()
			t.Errorf("dialled %s, which must be unreachable", addr)
			continue
		}
		t.Logf("cannot reach %s: %v", addr, err)
	}
}

// sameSealedKeys reports whether got has exactly want's keys, each with a
// sealed value.
func sameSealedKeys(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k := range want {
		if !seal.IsSealed([]byte(got[k])) {
			return false
		}
	}
	return true
}
