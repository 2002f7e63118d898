package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/invite"
	"github.com/syncnode/syncnode/relay"
	"github.com/syncnode/syncnode/relay/httpsync"
	"github.com/syncnode/syncnode/store"
)

// The fan-in: 50 devices writing 200 records each through one hub.
const (
	fanInDevices = 50
	fanInWrites  = 200
	// fanInTarget is the goal: every device holds every record
	// this soon after the last write.
	fanInTarget = 5 * time.Second
	// fanInWait bounds the wait for convergence. A round that hits it is
	// reported, not failed: the figures say how far it got.
	fanInWait = 2 * time.Minute
)

// HTTP sync pushes httpBatches requests of httpBatch records per iteration,
// so that even -benchtime 1x times 10,000 records.
const (
	httpBatch   = 500
	httpBatches = 20
)

// benchTimeout bounds every other wait of these benchmarks: readiness,
// writes, catch-up. Hitting it fails the benchmark.
const benchTimeout = 2 * time.Minute

// benchValue is a record of typical size for a task list.
var benchValue = []byte(`{"title":"buy milk and bread on the way home","done":false,"tags":["home","errand"],"due":"2025-06-15"}`)

const mib = 1 << 20

// BenchmarkRelayFanIn50 times the fan-in: 50 devices, each a full
// node (node.Start, durable data dir, no mDNS) on loopback TCP that knows
// only the relay, write 200 records each, one after another; the figure is
// the time from the last write until every device holds all 10,000 (goal:
// fanInTarget).
//
// "local" is the baseline in the same run: the same 50 devices, connected
// to nothing, make the same writes, timed until the last one is durable.
// It is the floor of the fan-in on this machine, since all 50 stores share
// one disk and two cores: the relay's total-ms against local's write-ms is
// what propagation adds to committing the writes at all. (A plain node as
// the hub was tried as a propagation baseline and dropped: GossipSub
// through one hub forwards only to that hub's mesh of at most a dozen
// peers, so most devices wait for anti-entropy. A relay keeps every device
// in its mesh: warmup-ms shows how fast one write each reaches everyone.)
//
// Relay and devices run with their default anti-entropy, as shipped: the
// timer, the check with the relay after each burst, pulls on gaps, and the
// relay exchange every node.DefaultRelayInterval.
//
// The relay runs in a child process, as on a VPS, so that its memory is
// its own: relay-rss-* are its resident set before the timed writes (after
// pairing and warm-up), after every device converged, and at its peak.
// The other memory figures are the devices' process, all 50 together; the
// local run is their reference.
func BenchmarkRelayFanIn50(b *testing.B) {
	b.Run("hub=relay", benchFanIn)
	b.Run("local", benchLocalWrites)
}

// fanInFigures is what one fan-in round measured.
type fanInFigures struct {
	mem                        memFigures
	warmUp, write, total       time.Duration
	p50, max                   time.Duration
	unconverged                int
	messages, bytes, aeRecords uint64
	devicePeers                float64
	// the relay process's resident set: before and after the timed
	// writes, and its peak
	relayBefore, relayAfter, relayPeak uint64
}

func benchFanIn(b *testing.B) {
	var sum fanInFigures
	for range b.N {
		b.StopTimer()
		f := fanInRound(b)
		b.StartTimer()
		sum.mem = sum.mem.plus(f.mem)
		sum.relayBefore += f.relayBefore
		sum.relayAfter += f.relayAfter
		sum.relayPeak += f.relayPeak
		sum.warmUp += f.warmUp
		sum.write += f.write
		sum.total += f.total
		sum.p50 += f.p50
		sum.max += f.max
		sum.unconverged += f.unconverged
		sum.messages += f.messages
		sum.bytes += f.bytes
		sum.aeRecords += f.aeRecords
		sum.devicePeers += f.devicePeers
	}
	n := float64(b.N)
	b.ReportMetric(msPer(sum.p50, b.N), "converge-p50-ms")
	b.ReportMetric(msPer(sum.max, b.N), "converge-max-ms")
	b.ReportMetric(msPer(sum.write, b.N), "write-ms")
	b.ReportMetric(msPer(sum.total, b.N), "total-ms")
	b.ReportMetric(msPer(sum.warmUp, b.N), "warmup-ms")
	b.ReportMetric(float64(sum.unconverged)/n, "unconverged")
	sum.mem.report(b)
	b.ReportMetric(float64(sum.relayBefore)/mib/n, "relay-rss-before-MiB")
	b.ReportMetric(float64(sum.relayAfter)/mib/n, "relay-rss-after-MiB")
	b.ReportMetric(float64(sum.relayPeak)/mib/n, "relay-rss-peak-MiB")
	b.ReportMetric(float64(sum.messages)/n, "gossip-msgs")
	b.ReportMetric(float64(sum.bytes)/mib/n, "gossip-MiB")
	b.ReportMetric(float64(sum.aeRecords)/n, "ae-records")
	b.ReportMetric(sum.devicePeers/n, "device-peers")
	if sum.unconverged > 0 || sum.max/time.Duration(b.N) > fanInTarget {
		b.Logf("missed the goal: the slowest device converged %v after the last write (goal %v); %d devices not within %v",
			sum.max/time.Duration(b.N), fanInTarget, sum.unconverged, fanInWait)
	}
	// ns/op times the writes and the convergence; setup is excluded.
}

// fanInRound starts a relay and the devices, makes sure each one's writes
// reach all the others, then times the writes until every device
// holds all of them, and stops everything. The caller stops the timer.
func fanInRound(b *testing.B) fanInFigures {
	b.Helper()
	secret, err := group.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	var f fanInFigures
	r := startRelayProc(b, secret, fanInDevices)
	defer r.stop()
	devices := make([]*node.Node, fanInDevices)
	for i := range devices {
		devices[i] = startNode(b, secret, node.Options{Relay: r.addr, RelayToken: r.tokens[i], SyncInterval: node.DefaultSyncInterval})
	}
	defer closeAll(b, devices)

	// Warm up: one write per device, which every node must hold before the
	// timed writes, so that pairing, connections and gossip meshes are in
	// place and the figure is propagation alone. How long that takes is
	// reported too: it is how long 50 writes take to reach everyone.
	warm, err := writeEach(devices, "warmup", 1)
	if err != nil {
		b.Fatal(err)
	}
	at, err := holdAll(devices, fanInDevices, benchTimeout)
	if err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	f.warmUp = slices.MaxFunc(at, time.Time.Compare).Sub(warm)

	before := sumStats(devices)
	f.mem.before(b)
	f.relayBefore, _ = r.memory(b)
	b.StartTimer()
	start := time.Now()
	last, err := writeEach(devices, "tasks", fanInWrites)
	if err != nil {
		b.Fatal(err)
	}
	at, err = holdAll(devices, fanInDevices*(1+fanInWrites), fanInWait)
	b.StopTimer()
	if err != nil {
		b.Logf("convergence: %v", err)
	}
	f.mem.after(b)
	f.relayAfter, f.relayPeak = r.memory(b)

	f.write = last.Sub(start)
	lags := make([]time.Duration, 0, len(at))
	for _, t := range at {
		if t.IsZero() {
			f.unconverged++
			t = last.Add(fanInWait)
		}
		lags = append(lags, max(0, t.Sub(last)))
	}
	slices.Sort(lags)
	f.p50, f.max = lags[len(lags)/2], lags[len(lags)-1]
	f.total = last.Add(f.max).Sub(start)
	after := sumStats(devices)
	f.messages = after.Gossip.PublishedMessages - before.Gossip.PublishedMessages
	f.bytes = after.Gossip.PublishedBytes - before.Gossip.PublishedBytes
	f.aeRecords = after.AntiEntropy.RecordsReceived - before.AntiEntropy.RecordsReceived
	for _, d := range devices {
		// Every connected peer but the relay is another device, reached
		// through the relay's circuit.
		f.devicePeers += float64(len(d.Host().Network().Peers())-1) / fanInDevices
	}
	return f
}

// benchLocalWrites is BenchmarkRelayFanIn50's baseline: the same devices
// and writes, with no relay and no connections.
func benchLocalWrites(b *testing.B) {
	var mem memFigures
	var write time.Duration
	for range b.N {
		b.StopTimer()
		secret, err := group.NewSecret()
		if err != nil {
			b.Fatal(err)
		}
		devices := make([]*node.Node, fanInDevices)
		for i := range devices {
			devices[i] = startNode(b, secret, node.Options{})
		}
		var m memFigures
		m.before(b)
		b.StartTimer()
		start := time.Now()
		last, err := writeEach(devices, "tasks", fanInWrites)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		m.after(b)
		mem, write = mem.plus(m), write+last.Sub(start)
		closeAll(b, devices)
		b.StartTimer()
	}
	b.ReportMetric(msPer(write, b.N), "write-ms")
	mem.report(b)
}

func msPer(d time.Duration, n int) float64 {
	return float64(d) / float64(time.Millisecond) / float64(n)
}

// startRelay runs a relay of the group on loopback with a durable data dir
// and its default timers; o may add HTTP sync.
func startRelay(tb testing.TB, secret group.Secret, o relay.Options) *relay.Relay {
	tb.Helper()
	o.DataDir = filepath.Join(tb.TempDir(), "relay")
	o.Join = invite.EncodeRelay(secret.Network())
	o.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	o.API = "127.0.0.1:0"
	o.ScoreWhitelist = loopback
	if o.Logger == nil {
		o.Logger = quiet()
	}
	r, err := relay.Start(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// startNode runs a node of the group on loopback, in a fresh data dir, with
// no mDNS and, unless o sets SyncInterval, no background anti-entropy. o
// adds the peers or relay to reach.
func startNode(tb testing.TB, secret group.Secret, o node.Options) *node.Node {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := datadir.Init(dir, &secret); err != nil {
		tb.Fatal(err)
	}
	o.DataDir = dir
	o.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	o.API = "127.0.0.1:0"
	if o.SyncInterval == 0 {
		o.SyncInterval = -1
	}
	o.ScoreWhitelist = loopback
	o.Logger = quiet()
	n, _, err := node.Start(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	return n
}

// closeAll closes nodes in parallel: one at a time, 51 Badger stores take
// seconds to close.
func closeAll(tb testing.TB, nodes []*node.Node) {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.Close() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Error(err)
	}
}

// writeEach has every node put n records in namespace ns, all nodes at
// once and each one write after another, and returns when the last write
// returned.
func writeEach(nodes []*node.Node, ns string, n int) (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	errs := make([]error, len(nodes))
	done := make([]time.Time, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Go(func() {
			for j := range n {
				if _, err := nd.Put(ctx, ns, fmt.Sprintf("n%02d-%04d", i, j), benchValue); err != nil {
					errs[i] = fmt.Errorf("node %d write %d: %w", i, j, err)
					return
				}
			}
			done[i] = time.Now()
		})
	}
	wg.Wait()
	var last time.Time
	for _, t := range done {
		if t.After(last) {
			last = t
		}
	}
	return last, errors.Join(errs...)
}

// holdAll waits up to wait until every node holds want live records, and
// returns when each first did: the zero time for one that did not.
func holdAll(nodes []*node.Node, want int64, wait time.Duration) ([]time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	at := make([]time.Time, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { at[i], errs[i] = holds(ctx, n, want) })
	}
	wg.Wait()
	return at, errors.Join(errs...)
}

// holds waits, on commits rather than a timer, until n holds want live
// records, and returns when it first did.
func holds(ctx context.Context, n *node.Node, want int64) (time.Time, error) {
	for {
		changed := n.Changed()
		// The group's membership records are not benchmark records.
		have := n.Store().Stats().Live - int64(n.Members().Records())
		if have >= want {
			return time.Now(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("node %s holds %d of %d records: %w", n.ID().ShortString(), have, want, ctx.Err())
		}
	}
}

// sumStats adds up the traffic counters of nodes.
func sumStats(nodes []*node.Node) node.Stats {
	var s node.Stats
	for _, n := range nodes {
		t := n.Stats()
		s.Gossip.PublishedMessages += t.Gossip.PublishedMessages
		s.Gossip.PublishedBytes += t.Gossip.PublishedBytes
		s.AntiEntropy.RecordsReceived += t.AntiEntropy.RecordsReceived
	}
	return s
}

// memFigures are the whole process's memory before and after a timed
// phase.
type memFigures struct {
	rssBefore, rssAfter, heapAfter uint64
}

// before reads the resident set after returning freed memory to the OS, so
// that what earlier benchmarks left behind counts as little as it can.
func (m *memFigures) before(tb testing.TB) {
	runtime.GC()
	debug.FreeOSMemory()
	m.rssBefore = rss(tb)
}

func (m *memFigures) after(tb testing.TB) {
	m.rssAfter = rss(tb)
	m.heapAfter = liveHeap()
}

func (m memFigures) plus(o memFigures) memFigures {
	return memFigures{m.rssBefore + o.rssBefore, m.rssAfter + o.rssAfter, m.heapAfter + o.heapAfter}
}

// report reports the mean of b.N rounds' figures.
func (m memFigures) report(b *testing.B) {
	n := float64(b.N) * mib
	b.ReportMetric(float64(m.rssBefore)/n, "rss-before-MiB")
	b.ReportMetric(float64(m.rssAfter)/n, "rss-after-MiB")
	b.ReportMetric(float64(m.heapAfter)/n, "heap-MiB")
}

// liveHeap returns the heap in use after a collection: the process's live
// Go memory, Badger's memtables and caches included.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rss reads the process's resident set size.
func rss(tb testing.TB) uint64 {
	tb.Helper()
	return procStatus(tb, "/proc/self/status")["VmRSS"]
}

// procStatus reads the sizes, in bytes, a /proc status file gives in kB.
func procStatus(tb testing.TB, path string) map[string]uint64 {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("memory: %v", err)
	}
	defer f.Close()
	sizes := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		v, kb := strings.CutSuffix(strings.TrimSpace(v), " kB")
		if !ok || !kb {
			continue
		}
		kib, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			tb.Fatalf("memory: %s %q: %v", name, v, err)
		}
		sizes[name] = kib << 10
	}
	if err := sc.Err(); err != nil || sizes["VmRSS"] == 0 {
		tb.Fatalf("memory: no VmRSS in %s: %v", path, err)
	}
	return sizes
}

// BenchmarkRelayHTTPSync measures records/s pushed through a running
// relay's POST /v1/sync in batches of httpBatch, over loopback HTTP with a
// real token: authentication, the durable (and signed) write, the
// registry's ack of the client's cursor and the gossip publish all count.
// "relay" publishes to no one; "relay+device" has a paired device receive
// every record by gossip, on the same two cores, and reports how long after
// the last response it held them all. "direct" is the baseline in the same
// run: store.WriteAll on a durable store with default options, the same
// batches. The issue asks for 5,000 records/s at least.
func BenchmarkRelayHTTPSync(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		st, err := store.Open(store.Options{Dir: b.TempDir(), Origin: "bench-relay", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		ws := make([]store.Write, httpBatch)
		b.ResetTimer()
		for i := range b.N {
			for k := range httpBatches {
				for j := range ws {
					ws[j] = store.Write{NS: "open/tasks", Key: fmt.Sprintf("k%d-%d-%d", i, k, j), Value: benchValue}
				}
				res, err := st.WriteAll(context.Background(), ws)
				if err != nil || !res[httpBatch-1].Applied {
					b.Fatalf("write all: %v", err)
				}
			}
		}
		b.ReportMetric(float64(b.N*httpBatches*httpBatch)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("relay", func(b *testing.B) { benchHTTPRelay(b, false) })
	b.Run("relay+device", func(b *testing.B) { benchHTTPRelay(b, true) })
}

func benchHTTPRelay(b *testing.B, withDevice bool) {
	secret, err := group.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	r := startRelay(b, secret, relay.Options{HTTP: "127.0.0.1:0"})
	tok, err := r.Registry().Create("thin")
	if err != nil {
		b.Fatal(err)
	}
	c := &syncClient{url: "http://" + r.HTTPAddr() + httpsync.SyncPath, token: tok, http: &http.Client{Timeout: benchTimeout}}
	b.Cleanup(c.http.CloseIdleConnections)
	// Warm up: the token is verified once, as for any returning client,
	// and the device, if any, holds a thin client's write, so pairing and
	// gossip are in place.
	since := c.push(b, 0, []httpsync.Push{{NS: "open/warmup", Key: "thin", Value: benchValue}})
	var device *node.Node
	if withDevice {
		devTok, err := r.Registry().Create("device")
		if err != nil {
			b.Fatal(err)
		}
		device = startNode(b, secret, node.Options{Relay: r.Addrs()[0].String(), RelayToken: devTok})
		if _, err := holdAll([]*node.Node{device}, 1, benchTimeout); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}

	req := httpsync.SyncRequest{Changes: make([]httpsync.Push, httpBatch)}
	b.ResetTimer()
	for i := range b.N {
		for k := range httpBatches {
			for j := range req.Changes {
				req.Changes[j] = httpsync.Push{NS: "open/tasks", Key: fmt.Sprintf("k%d-%d-%d", i, k, j), Value: benchValue}
			}
			since = c.push(b, since, req.Changes)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*httpBatches*httpBatch)/b.Elapsed().Seconds(), "records/s")
	if device == nil {
		return
	}
	pushed := time.Now()
	at, err := holdAll([]*node.Node{device}, int64(1+b.N*httpBatches*httpBatch), benchTimeout)
	if err != nil {
		b.Fatalf("the paired device did not get every pushed record: %v", err)
	}
	b.ReportMetric(float64(at[0].Sub(pushed))/float64(time.Millisecond), "device-catchup-ms")
}

// syncClient is a thin client of a relay's HTTP sync.
type syncClient struct {
	url, token string
	http       *http.Client
}

// push sends changes after since, checks that all were applied and
// returned, and returns the next since.
func (c *syncClient) push(tb testing.TB, since uint64, changes []httpsync.Push) uint64 {
	tb.Helper()
	body, err := json.Marshal(httpsync.SyncRequest{Since: since, Changes: changes})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var out httpsync.SyncResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("sync: status %d: %v", res.StatusCode, err)
	}
	if len(out.Rejected) != 0 || len(out.Changes) != len(changes) {
		tb.Fatalf("sync: %d of %d rejected (%+v), %d returned", len(out.Rejected), len(changes), out.Rejected, len(out.Changes))
	}
	return out.ServerSeq
}
