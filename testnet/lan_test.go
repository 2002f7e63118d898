package testnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/discovery"
	"github.com/syncnode/syncnode/node/netnstest"
)

const (
	// lanNS is the record namespace the LAN test writes.
	lanNS = "lan"
	// lanPutsPerHost is how many records each group member writes.
	lanPutsPerHost = 3
	// lanQuietRounds is how many browse rounds every host completes, each
	// begun after all four advertise, before the test accepts that the
	// foreign host was heard and ignored rather than not heard yet. D,
	// started last, also heard the group in the round it runs at start.
	// Each round adds discovery.DefaultInterval and a bit to the test.
	lanQuietRounds = 1
	// lanCLITimeout bounds one client command.
	lanCLITimeout = 30 * time.Second
	// lanPollEvery is the polling period; each poll runs a few commands.
	lanPollEvery = 250 * time.Millisecond
)

// lanRound bounds the time from the start of one browse round of a node to
// the start of its next: the jittered interval plus the round's own query.
const lanRound = discovery.DefaultInterval*11/10 + discovery.DefaultQueryTimeout

// TestLANDiscovery runs the syncnode binary on four hosts of a bridged LAN,
// each in its own network namespace, with mDNS as the only way to find a
// peer. A, B and C share a group, D has a group of its own. A, B and C must
// find one another by mDNS and converge on each other's writes; D must
// never see them nor they it, and must get none of their records.
func TestLANDiscovery(t *testing.T) {
	netnstest.Require(t)
	bin := lanBuild(t)
	lan := netnstest.NewLAN(t, 4)
	root := t.TempDir()
	hosts := make([]*lanHost, len(lan))
	for i, m := range lan {
		name := string(rune('A' + i))
		hosts[i] = &lanHost{name: name, ns: m.NS, bin: bin, data: filepath.Join(root, name)}
	}
	a, b, c, d := hosts[0], hosts[1], hosts[2], hosts[3]
	group := hosts[:3]

	// A hands out invites while it runs, one single-use code each for B
	// and C, which redeem them over the LAN. join keeps A's addresses as
	// static peers; they are dropped, so that B and C can find A only by
	// mDNS.
	a.id = a.initialize(t, "init")
	a.start(t)
	for _, h := range []*lanHost{b, c} {
		h.id = h.initialize(t, "join", lanInvite(t, a))
		peers := filepath.Join(h.data, node.PeersFile)
		if saved, err := os.ReadFile(peers); err != nil || !bytes.Contains(saved, []byte(a.id)) {
			t.Fatalf("%s: join saved peers %q (%v), want A's addresses", h.name, saved, err)
		}
		if err := os.Remove(peers); err != nil {
			t.Fatal(err)
		}
	}
	d.id = d.initialize(t, "init")

	start := time.Now()
	for _, h := range hosts[1:] {
		h.start(t)
	}
	allUp := time.Now()
	t.Logf("B, C and D up in %v, A already running", allUp.Sub(start).Round(time.Millisecond))

	// isolated fails the test at once if D and the group ever see each
	// other; every poll below calls it.
	isolated := func(views map[*lanHost][]api.Peer) {
		t.Helper()
		if got := views[d]; len(got) != 0 {
			t.Fatalf("D, alone in its group, lists peers %v", lanPeerIDs(got))
		}
		for _, h := range group {
			if slices.Contains(lanPeerIDs(views[h]), d.id) {
				t.Fatalf("%s lists D, of another group, as a peer: %+v", h.name, views[h])
			}
		}
	}

	lanWaitUntil(t, allUp.Add(3*lanRound), "A, B and C to find each other by mDNS", func() (bool, string) {
		views := lanPeerViews(t, hosts)
		isolated(views)
		return lanGroupState(group, views, func(p api.Peer) bool {
			return p.Source == string(node.SourceMDNS) && p.Connected
		})
	})
	found := time.Now()
	t.Logf("A, B and C found each other by mDNS %v after all were up", found.Sub(allUp).Round(time.Millisecond))

	want := map[string]string{}
	for _, h := range group {
		for i := 1; i <= lanPutsPerHost; i++ {
			key, value := fmt.Sprintf("%s%d", h.name, i), fmt.Sprintf(`{"by":%q,"n":%d}`, h.name, i)
			h.mustRun(t, "put", lanNS, key, value, "--json")
			want[key] = value
		}
	}
	written := time.Now()
	lanWaitUntil(t, written.Add(30*time.Second), "A, B and C to converge and say so", func() (bool, string) {
		for _, h := range group {
			if got := h.records(t); !maps.Equal(got, want) {
				return false, fmt.Sprintf("%s has %v", h.name, got)
			}
		}
		views := lanPeerViews(t, hosts)
		isolated(views)
		return lanGroupState(group, views, func(p api.Peer) bool { return p.InSync })
	})
	converged := time.Now()
	t.Logf("A, B and C converged %v after the last put", converged.Sub(written).Round(time.Millisecond))
	digest := a.status(t).Digest
	for _, h := range group {
		for key, value := range want {
			got, _ := h.mustRun(t, "get", lanNS, key)
			if strings.TrimSpace(got) != value {
				t.Errorf("%s: get %s = %q, want %s", h.name, key, got, value)
			}
		}
		st := h.status(t)
		if st.Records != uint64(len(want)) || len(st.Peers) != 2 || !st.Peers[0].InSync || !st.Peers[1].InSync {
			t.Errorf("%s status: %d records, peers %+v; want %d records and 2 peers in sync", h.name, st.Records, st.Peers, len(want))
		}
		if st.Digest != digest {
			t.Errorf("%s digest %s differs from A's", h.name, st.Digest)
		}
	}

	// Every host starts a browse round within lanRound of any moment, and
	// a round lasts at most DefaultQueryTimeout; so by quiet every host has
	// finished lanQuietRounds rounds begun after all four were advertising:
	// D has heard the group, and the group D, and each ignored the other.
	quiet := allUp.Add(lanQuietRounds*lanRound + discovery.DefaultQueryTimeout)
	lanHoldUntil(t, quiet, func() {
		isolated(lanPeerViews(t, hosts))
		if got := d.records(t); len(got) != 0 {
			t.Fatalf("D, of another group, has records %v", got)
		}
	})
	t.Logf("D stayed apart until %v after all were up, %v after A, B and C converged",
		time.Since(allUp).Round(time.Millisecond), time.Since(converged).Round(time.Millisecond))
}

// lanHost is one host of the LAN: a namespace and a data dir.
type lanHost struct {
	name string
	ns   string
	bin  string
	data string
	id   string
	log  string // path of the running node's output
}

// run runs `syncnode args... --data DIR` inside the host's namespace.
func (h *lanHost) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lanCLITimeout)
	defer cancel()
	cmd := netnstest.Command(ctx, h.ns, h.bin, append(args, "--data", h.data)...)
	cmd.Env = lanEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// mustRun runs a command that must succeed.
func (h *lanHost) mustRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := h.run(t, args...)
	if err != nil {
		t.Fatalf("%s: syncnode %s: %v\nstderr: %s", h.name, strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

// lanInvite asks h's running node for a single-use join code.
func lanInvite(t *testing.T, h *lanHost) string {
	t.Helper()
	stdout, _ := h.mustRun(t, "invite", "--json")
	var inv struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(stdout), &inv); err != nil || inv.Code == "" {
		t.Fatalf("%s: invite --json = %q (%v)", h.name, stdout, err)
	}
	return inv.Code
}

// initialize sets up the host's data dir with init or join and returns its
// device ID.
func (h *lanHost) initialize(t *testing.T, args ...string) string {
	t.Helper()
	stdout, _ := h.mustRun(t, append(args, "--json")...)
	var res struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.ID == "" {
		t.Fatalf("%s: %s --json = %q (%v)", h.name, args[0], stdout, err)
	}
	return res.ID
}

// start runs the host's node with mDNS on the LAN interface and no static
// peer, and waits until its API answers. The process is killed when t ends.
func (h *lanHost) start(t *testing.T) {
	t.Helper()
	h.log = h.data + ".log"
	logf, err := os.Create(h.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := netnstest.Command(context.Background(), h.ns, h.bin, "run", "--data", h.data,
		"--listen", "/ip4/0.0.0.0/tcp/4001", "--api", "127.0.0.1:7070",
		"--mdns-iface", netnstest.Iface, "--sync-interval", "2s")
	cmd.Env = lanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start node: %v", h.name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			out, _ := os.ReadFile(h.log)
			t.Logf("node %s (%s) output:\n%s", h.name, h.id, out)
		}
	})
	lanWaitUntil(t, time.Now().Add(20*time.Second), h.name+"'s API", func() (bool, string) {
		_, stderr, err := h.run(t, "status")
		return err == nil, stderr
	})
}

// peers returns the peers the host's node lists, or nil if it does not
// answer.
func (h *lanHost) peers(t *testing.T) []api.Peer {
	t.Helper()
	stdout, _, err := h.run(t, "peers", "--json")
	if err != nil {
		return nil
	}
	var res api.PeersResponse
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%s: peers --json = %q: %v", h.name, stdout, err)
	}
	return res.Peers
}

// records returns the host's records in lanNS, key to compact JSON value.
func (h *lanHost) records(t *testing.T) map[string]string {
	t.Helper()
	stdout, _ := h.mustRun(t, "ls", lanNS, "--json")
	var res api.ListResponse
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%s: ls --json = %q: %v", h.name, stdout, err)
	}
	out := make(map[string]string, len(res.Records))
	for _, r := range res.Records {
		var v bytes.Buffer
		if err := json.Compact(&v, r.Value); err != nil {
			t.Fatalf("%s: record %s has value %q: %v", h.name, r.Key, r.Value, err)
		}
		out[r.Key] = v.String()
	}
	return out
}

// status returns the host's node status.
func (h *lanHost) status(t *testing.T) api.Status {
	t.Helper()
	stdout, _ := h.mustRun(t, "status", "--json")
	var st api.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("%s: status --json = %q: %v", h.name, stdout, err)
	}
	return st
}

// lanPeerViews asks every host for its peers.
func lanPeerViews(t *testing.T, hosts []*lanHost) map[*lanHost][]api.Peer {
	t.Helper()
	views := make(map[*lanHost][]api.Peer, len(hosts))
	for _, h := range hosts {
		views[h] = h.peers(t)
	}
	return views
}

// lanGroupState reports whether every member of group lists every other
// member as a peer for which ok holds, and if not, what it lists instead.
func lanGroupState(group []*lanHost, views map[*lanHost][]api.Peer, ok func(api.Peer) bool) (bool, string) {
	for _, h := range group {
		for _, other := range group {
			if other == h {
				continue
			}
			i := slices.IndexFunc(views[h], func(p api.Peer) bool { return p.ID == other.id })
			if i < 0 || !ok(views[h][i]) {
				return false, fmt.Sprintf("%s lists %+v; wants %s (%s)", h.name, views[h], other.name, other.id)
			}
		}
	}
	return true, ""
}

func lanPeerIDs(peers []api.Peer) []string {
	ids := make([]string, len(peers))
	for i, p := range peers {
		ids[i] = p.ID
	}
	return ids
}

// lanWaitUntil polls check until it reports done, and fails t with its last
// account of what is missing if the deadline passes first.
func lanWaitUntil(t *testing.T, deadline time.Time, what string, check func() (done bool, state string)) {
	t.Helper()
	tick := time.NewTicker(lanPollEvery)
	defer tick.Stop()
	for {
		done, state := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, state)
		}
		<-tick.C
	}
}

// lanHoldUntil runs check, which fails t on a violation, on every tick until
// the deadline, and at least once.
func lanHoldUntil(t *testing.T, deadline time.Time, check func()) {
	t.Helper()
	tick := time.NewTicker(lanPollEvery)
	defer tick.Stop()
	for {
		check()
		if time.Now().After(deadline) {
			return
		}
		<-tick.C
	}
}

// lanBuild builds the syncnode binary from the module root into a
// temporary directory and returns its path.
func lanBuild(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("find the module root: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "syncnode")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/syncnode")
	cmd.Dir = strings.TrimSpace(string(root))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build syncnode: %v\n%s", err, out)
	}
	return bin
}

// lanEnv drops SYNCNODE_* variables so the host's settings cannot leak in.
func lanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SYNCNODE_") {
			env = append(env, kv)
		}
	}
	return env
}
