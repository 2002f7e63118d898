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
)

// HTTP sync pushes httpBatches requests of httpBatch records per iteration,
// so that even -benchtime 1x times 10,000 records.
const (
	httpBatch   = 500
	httpBatches = 20
)

// benchTimeout bounds every wait of these benchmarks: readiness, writes,
// convergence, catch-up. Hitting it fails the benchmark.
const benchTimeout = time.Minute

// benchValue is a record of typical size for a task list.
var benchValue = []byte(`{"title":"buy milk and bread on the way home","done":false,"tags":["home","errand"],"due":"2025-06-15"}`)

const mib = 1 << 20

// BenchmarkRelayFanIn50 times the fan-in: 50 devices, each a full
// node on loopback TCP that knows only its hub, write 200 records each;
// the figure is the time from the last write until every device holds all
// 10,000 (goal: fanInTarget).
//
// hub=relay is the real relay, which devices pair with by token and which
// reports them to each other. hub=plain is the baseline: the same devices
// given a plain node (republishing like the relay) as their one static
// peer. It differs from the relay only by admission, pairing and circuit
// relaying, so the ratio of the two is what the relay's machinery costs on
// top of the gossip and anti-entropy every hub needs. (Committing the
// writes locally would be a cheaper baseline, but says nothing about
// propagation, which is what the goal is about.)
//
// Memory figures are the whole process's, all 51 nodes together: Go heap
// cannot be split by node in one process. hub-heap-MiB is the one figure
// of the hub alone: what starting it added to the live heap, before any
// device existed. The plain hub's run is the reference for the rest.
func BenchmarkRelayFanIn50(b *testing.B) {
	b.Run("hub=relay", func(b *testing.B) { benchFanIn(b, startRelayHub) })
	b.Run("hub=plain", func(b *testing.B) { benchFanIn(b, startPlainHub) })
}

// fanInFigures is what one fan-in round measured.
type fanInFigures struct {
	write, p50, max           time.Duration
	hubHeap, heap             uint64
	rssBefore, rssAfter       uint64
	messages, bytes, aeRecord uint64
	devicePeers               float64
}

func benchFanIn(b *testing.B, startHub func(testing.TB, group.Secret) hub) {
	var sum fanInFigures
	for range b.N {
		b.StopTimer()
		f := fanInRound(b, startHub)
		b.StartTimer()
		sum.write += f.write
		sum.p50 += f.p50
		sum.max += f.max
		sum.hubHeap += f.hubHeap
		sum.heap += f.heap
		sum.rssBefore += f.rssBefore
		sum.rssAfter += f.rssAfter
		sum.messages += f.messages
		sum.bytes += f.bytes
		sum.aeRecord += f.aeRecord
		sum.devicePeers += f.devicePeers
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
	b.ReportMetric(ms(sum.p50), "converge-p50-ms")
	b.ReportMetric(ms(sum.max), "converge-max-ms")
	b.ReportMetric(ms(sum.write), "write-ms")
	b.ReportMetric(float64(sum.rssBefore)/mib/n, "rss-before-MiB")
	b.ReportMetric(float64(sum.rssAfter)/mib/n, "rss-after-MiB")
	b.ReportMetric(float64(sum.heap)/mib/n, "heap-MiB")
	b.ReportMetric(float64(sum.hubHeap)/mib/n, "hub-heap-MiB")
	b.ReportMetric(float64(sum.messages)/n, "gossip-msgs")
	b.ReportMetric(float64(sum.bytes)/mib/n, "gossip-MiB")
	b.ReportMetric(float64(sum.aeRecord)/n, "ae-records")
	b.ReportMetric(sum.devicePeers/n, "device-peers")
	if sum.max/time.Duration(b.N) > fanInTarget {
		b.Logf("missed the goal: the slowest device converged %v after the last write (goal %v)", sum.max/time.Duration(b.N), fanInTarget)
	}
	// ns/op times the writes and the convergence; setup is excluded.
}

// fanInRound starts a hub and the devices, makes sure each one's writes
// reach all the others, then times the writes until every device
// holds all of them, and stops everything. The caller stops the timer.
func fanInRound(b *testing.B, startHub func(testing.TB, group.Secret) hub) fanInFigures {
	b.Helper()
	secret, err := group.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	var f fanInFigures
	heap0 := liveHeap()
	h := startHub(b, secret)
	f.hubHeap = liveHeap() - min(heap0, liveHeap())
	devices := make([]*node.Node, fanInDevices)
	for i := range devices {
		o := node.Options{}
		h.join(b, &o, i)
		devices[i] = startNode(b, secret, o)
	}
	all := append(slices.Clip(devices), h.node)
	defer closeAll(b, all)

	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	defer cancel()
	// Warm up: one write per node, which every node must hold before the
	// timed writes, so that pairing, connections and gossip meshes are in
	// place and the figure is propagation alone.
	warm := make([]int, len(all))
	for i := range warm {
		warm[i] = 1
	}
	if _, err := writeAll(ctx, all, "warmup", warm); err != nil {
		b.Fatal(err)
	}
	if _, err := holdAll(ctx, all, int64(len(all))); err != nil {
		b.Fatalf("warm-up: %v", err)
	}

	before := sumStats(all)
	runtime.GC()
	debug.FreeOSMemory()
	f.rssBefore = rss(b)

	b.StartTimer()
	start := time.Now()
	counts := make([]int, len(devices))
	for i := range counts {
		counts[i] = fanInWrites
	}
	last, err := writeAll(ctx, devices, "tasks", counts)
	if err != nil {
		b.Fatal(err)
	}
	at, err := holdAll(ctx, devices, int64(len(all)+fanInDevices*fanInWrites))
	b.StopTimer()
	if err != nil {
		b.Fatalf("convergence: %v", err)
	}

	f.rssAfter = rss(b)
	f.heap = liveHeap()
	f.write = last.Sub(start)
	lags := make([]time.Duration, len(at))
	for i, t := range at {
		lags[i] = max(0, t.Sub(last))
	}
	slices.Sort(lags)
	f.p50, f.max = lags[len(lags)/2], lags[len(lags)-1]
	after := sumStats(all)
	f.messages = after.Gossip.PublishedMessages - before.Gossip.PublishedMessages
	f.bytes = after.Gossip.PublishedBytes - before.Gossip.PublishedBytes
	f.aeRecord = after.AntiEntropy.RecordsReceived - before.AntiEntropy.RecordsReceived
	for _, d := range devices {
		// Every connected peer but the hub is another device.
		f.devicePeers += float64(len(d.Host().Network().Peers())-1) / fanInDevices
	}
	return f
}

// hub is the node every fan-in device reaches, and how device i is told
// to reach it.
type hub struct {
	node *node.Node
	join func(tb testing.TB, o *node.Options, i int)
}

// startRelayHub runs a relay; each device pairs with a token of its own.
func startRelayHub(tb testing.TB, secret group.Secret) hub {
	r := startRelay(tb, secret, "")
	addr := r.Addrs()[0].String()
	return hub{node: r.Node(), join: func(tb testing.TB, o *node.Options, i int) {
		tok, err := r.Registry().Create(fmt.Sprintf("device-%02d", i))
		if err != nil {
			tb.Fatal(err)
		}
		o.Relay, o.RelayToken = addr, tok
	}}
}

// startPlainHub runs a plain node of the group that gossips what it pulls,
// as a relay does; devices know it as their only static peer.
func startPlainHub(tb testing.TB, secret group.Secret) hub {
	n := startNode(tb, secret, node.Options{Republish: true})
	addr := n.Host().Addrs()[0].String() + "/p2p/" + n.ID().String()
	return hub{node: n, join: func(_ testing.TB, o *node.Options, _ int) {
		o.Peers = []string{addr}
	}}
}

// startRelay runs a relay of the group on loopback with a durable data
// dir; httpAddr "" leaves HTTP sync off.
func startRelay(tb testing.TB, secret group.Secret, httpAddr string) *relay.Relay {
	tb.Helper()
	r, err := relay.Start(relay.Options{
		DataDir:        filepath.Join(tb.TempDir(), "relay"),
		Join:           invite.EncodeRelay(secret.Network()),
		Listen:         []string{"/ip4/127.0.0.1/tcp/0"},
		API:            "127.0.0.1:0",
		HTTP:           httpAddr,
		SyncInterval:   -1,
		ScoreWhitelist: loopback,
		Logger:         quiet(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// startNode runs a node of the group on loopback, in a fresh data dir, with
// no mDNS and no anti-entropy timer. o adds the peers or relay to reach.
func startNode(tb testing.TB, secret group.Secret, o node.Options) *node.Node {
	tb.Helper()
	dir := tb.TempDir()
	if _, err := datadir.Init(dir, &secret); err != nil {
		tb.Fatal(err)
	}
	o.DataDir = dir
	o.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	o.API = "127.0.0.1:0"
	o.SyncInterval = -1
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

// writeAll has node i put counts[i] records in namespace ns, all nodes at
// once and each one write after another, and returns when the last write
// returned.
func writeAll(ctx context.Context, nodes []*node.Node, ns string, counts []int) (time.Time, error) {
	errs := make([]error, len(nodes))
	done := make([]time.Time, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			for j := range counts[i] {
				if _, err := n.Put(ctx, ns, fmt.Sprintf("n%02d-%04d", i, j), benchValue); err != nil {
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

// holdAll waits until every node holds want live records and returns when
// each first did.
func holdAll(ctx context.Context, nodes []*node.Node, want int64) ([]time.Time, error) {
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
		have := n.Store().Stats().Live
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

// liveHeap returns the heap in use after a collection: the process's live
// Go memory, Badger's memtables and caches included.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rss reads the process's resident set size from /proc/self/status.
func rss(tb testing.TB) uint64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatalf("rss: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kib, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatalf("rss: %q: %v", v, err)
			}
			return kib << 10
		}
	}
	tb.Fatalf("rss: no VmRSS in /proc/self/status: %v", sc.Err())
	return 0
}

// BenchmarkRelayHTTPSync measures records/s pushed through a running
// relay's POST /v1/sync in batches of httpBatch, over loopback HTTP with a
// real token: authentication, the durable write, the registry's ack of the
// client's cursor and the gossip publish to a paired device all count.
// "direct" is the baseline in the same run: store.WriteAll on a durable
// store of the relay's options, with the same batches. The issue asks for
// 5,000 records/s at least.
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
					ws[j] = store.Write{NS: "tasks", Key: fmt.Sprintf("k%d-%d-%d", i, k, j), Value: benchValue}
				}
				res, err := st.WriteAll(context.Background(), ws)
				if err != nil || !res[httpBatch-1].Applied {
					b.Fatalf("write all: %v", err)
				}
			}
		}
		b.ReportMetric(float64(b.N*httpBatches*httpBatch)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("relay", func(b *testing.B) {
		secret, err := group.NewSecret()
		if err != nil {
			b.Fatal(err)
		}
		r := startRelay(b, secret, "127.0.0.1:0")
		tok, err := r.Registry().Create("thin")
		if err != nil {
			b.Fatal(err)
		}
		devTok, err := r.Registry().Create("device")
		if err != nil {
			b.Fatal(err)
		}
		device := startNode(b, secret, node.Options{Relay: r.Addrs()[0].String(), RelayToken: devTok})
		c := &syncClient{url: "http://" + r.HTTPAddr() + httpsync.SyncPath, token: tok, http: &http.Client{Timeout: benchTimeout}}
		b.Cleanup(c.http.CloseIdleConnections)

		ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
		defer cancel()
		// Warm up: the device holds a thin client's write, so pairing and
		// gossip are in place, and the token has been verified once.
		since := c.push(b, 0, []httpsync.Push{{NS: "warmup", Key: "thin", Value: benchValue}})
		if _, err := holds(ctx, device, 1); err != nil {
			b.Fatalf("warm-up: %v", err)
		}

		req := httpsync.SyncRequest{Changes: make([]httpsync.Push, httpBatch)}
		b.ResetTimer()
		for i := range b.N {
			for k := range httpBatches {
				for j := range req.Changes {
					req.Changes[j] = httpsync.Push{NS: "tasks", Key: fmt.Sprintf("k%d-%d-%d", i, k, j), Value: benchValue}
				}
				since = c.push(b, since, req.Changes)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N*httpBatches*httpBatch)/b.Elapsed().Seconds(), "records/s")
		pushed := time.Now()
		at, err := holds(ctx, device, int64(1+b.N*httpBatches*httpBatch))
		if err != nil {
			b.Fatalf("the paired device did not get every pushed record: %v", err)
		}
		b.ReportMetric(float64(at.Sub(pushed))/float64(time.Millisecond), "device-catchup-ms")
	})
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
		tb.Fatalf("sync: %d of %d rejected, %d returned", len(out.Rejected), len(changes), len(out.Changes))
	}
	return out.ServerSeq
}
