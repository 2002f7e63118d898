package antientropy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// The catch-up benchmark runs the responder, each initiator and the raw
// Badger baseline in child processes of the test binary, so that the memory
// measured is one initiator's alone and no run inherits another's heap.
// envRole selects the child's part; the others configure it.
const (
	envRole      = "ANTIENTROPY_BENCH_ROLE"
	envDir       = "ANTIENTROPY_BENCH_DIR"
	envRecords   = "ANTIENTROPY_BENCH_RECORDS"
	envValueSize = "ANTIENTROPY_BENCH_VALUE_SIZE"
	envMemTable  = "ANTIENTROPY_BENCH_MEMTABLE"
	envPeer      = "ANTIENTROPY_BENCH_PEER"
	envDiscard   = "ANTIENTROPY_BENCH_DISCARD"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		if err := runBenchChild(role); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchEnv is the configuration a child reads from its environment.
type benchEnv struct {
	dir                string
	records, valueSize int
	memTable           int64
	peer               string
	discard            bool // the initiator merges into a discardStore
}

func readBenchEnv() (benchEnv, error) {
	e := benchEnv{dir: os.Getenv(envDir), peer: os.Getenv(envPeer), discard: os.Getenv(envDiscard) != ""}
	var err error
	if e.records, err = strconv.Atoi(os.Getenv(envRecords)); err != nil {
		return e, fmt.Errorf("%s: %w", envRecords, err)
	}
	if e.valueSize, err = strconv.Atoi(os.Getenv(envValueSize)); err != nil {
		return e, fmt.Errorf("%s: %w", envValueSize, err)
	}
	if v := os.Getenv(envMemTable); v != "" {
		if e.memTable, err = strconv.ParseInt(v, 10, 64); err != nil {
			return e, fmt.Errorf("%s: %w", envMemTable, err)
		}
	}
	return e, nil
}

func runBenchChild(role string) error {
	e, err := readBenchEnv()
	if err != nil {
		return err
	}
	switch role {
	case "responder":
		return runBenchResponder(e)
	case "initiator":
		return runBenchInitiator(e)
	case "raw":
		secs, err := rawBadgerWrite(e)
		if err == nil {
			fmt.Printf("RESULT seconds=%g\n", secs)
		}
		return err
	}
	return fmt.Errorf("unknown role %q", role)
}

// runBenchResponder fills an on-disk store, serves it on loopback TCP,
// prints "READY <addr>/p2p/<id>" and serves until stdin closes.
func runBenchResponder(e benchEnv) error {
	st, err := store.Open(store.Options{Dir: e.dir, Origin: "bench-responder", Logger: discardLogger()})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := fillStore(st, "bench-origin", e.records, e.valueSize); err != nil {
		return err
	}
	h, err := loopbackHost()
	if err != nil {
		return err
	}
	defer h.Close()
	svc := New(h, Config{Store: st, Logger: discardLogger()})
	defer svc.Close()
	fmt.Printf("READY %s/p2p/%s\n", h.Addrs()[0], h.ID())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// runBenchInitiator pulls everything from the responder into an empty
// on-disk store and prints the time taken and the growth of its memory.
func runBenchInitiator(e benchEnv) error {
	ai, err := peer.AddrInfoFromString(e.peer)
	if err != nil {
		return err
	}
	var st Store = discardStore{}
	if !e.discard {
		bst, err := store.Open(store.Options{Dir: e.dir, Origin: "bench-initiator", MemTableSize: e.memTable, Logger: discardLogger()})
		if err != nil {
			return err
		}
		defer bst.Close()
		st = bst
	}
	h, err := loopbackHost()
	if err != nil {
		return err
	}
	defer h.Close()
	svc := New(h, Config{Store: st, Logger: discardLogger()})
	defer svc.Close()
	ctx := context.Background()
	if err := h.Connect(ctx, *ai); err != nil {
		return err
	}

	runtime.GC()
	base := startMemSampler().finish()
	mem := startMemSampler()
	start := time.Now()
	res, err := svc.Sync(ctx, ai.ID)
	secs := time.Since(start).Seconds()
	peak := mem.finish()
	if err != nil {
		return err
	}
	if res.RecordsApplied != e.records {
		return fmt.Errorf("applied %d of %d records", res.RecordsApplied, e.records)
	}
	fmt.Printf("RESULT seconds=%g records=%d rss=%d anon=%d heap=%d\n", secs, res.RecordsApplied,
		peak.rss-base.rss, peak.anon-base.anon, peak.heapLive-base.heapLive)
	return nil
}

// discardStore counts records as applied and keeps nothing, so that a pull
// into it measures the protocol and transport alone. Test-only.
type discardStore struct{}

func (discardStore) Snapshot() *store.Snapshot { panic("discardStore serves nothing") }
func (discardStore) Apply(_ context.Context, recs []crdt.Record) (store.ApplyResult, error) {
	return store.ApplyResult{Applied: recs}, nil
}
func (discardStore) Join(context.Context, crdt.Vector) error { return nil }
func (discardStore) Vector() crdt.Vector                     { return crdt.Vector{} }
func (discardStore) Held() crdt.Held                         { return nil }
func (discardStore) Holes() []store.Hole                     { return nil }
func (discardStore) Refill(context.Context, []store.Hole, []crdt.Record, []store.Key) (store.ApplyResult, error) {
	return store.ApplyResult{}, nil
}

// fillStore applies n records in transaction-sized chunks, generating each
// chunk as it goes so the filler's memory stays small.
func fillStore(st *store.Store, origin crdt.NodeID, n, valueSize int) error {
	const chunk = 1000
	for first := 1; first <= n; first += chunk {
		recs := genRecords(origin, uint64(first), min(chunk, n-first+1), valueSize)
		res, err := st.Apply(context.Background(), recs)
		if err != nil {
			return err
		}
		if len(res.Rejected) > 0 {
			return res.Rejected[0].Err
		}
	}
	return nil
}

// rawBadgerWrite writes the same number and size of entries with a Badger
// WriteBatch, SyncWrites on, and returns the seconds taken.
func rawBadgerWrite(e benchEnv) (float64, error) {
	db, err := badger.Open(badger.DefaultOptions(e.dir).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	value := bytes.Repeat([]byte{'x'}, e.valueSize)
	start := time.Now()
	wb := db.NewWriteBatch()
	for i := range e.records {
		if err := wb.Set(binary.BigEndian.AppendUint64([]byte("k"), uint64(i)), value); err != nil {
			return 0, err
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

// loopbackHost is a real libp2p host on 127.0.0.1 TCP only.
func loopbackHost() (host.Host, error) {
	return libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(),
	)
}

func mustLoopbackHost(tb testing.TB) host.Host {
	tb.Helper()
	h, err := loopbackHost()
	if err != nil {
		tb.Fatalf("libp2p host: %v", err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

// benchChild prepares the test binary to run as a child in role.
func benchChild(b *testing.B, role string, e benchEnv) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envRole+"="+role,
		envDir+"="+b.TempDir(),
		envRecords+"="+strconv.Itoa(e.records),
		envValueSize+"="+strconv.Itoa(e.valueSize),
		envMemTable+"="+strconv.FormatInt(e.memTable, 10),
		envPeer+"="+e.peer,
	)
	if e.discard {
		cmd.Env = append(cmd.Env, envDiscard+"=1")
	}
	cmd.Stderr = os.Stderr
	return cmd
}

// runBenchChildResult runs a child to completion and parses its
// "RESULT k=v ..." line.
func runBenchChildResult(b *testing.B, role string, e benchEnv) map[string]float64 {
	b.Helper()
	out, err := benchChild(b, role, e).Output()
	if err != nil {
		b.Fatalf("bench %s: %v", role, err)
	}
	res := map[string]float64{}
	for line := range strings.Lines(string(out)) {
		fields, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT ")
		if !ok {
			continue
		}
		for _, kv := range strings.Fields(fields) {
			k, v, _ := strings.Cut(kv, "=")
			if res[k], err = strconv.ParseFloat(v, 64); err != nil {
				b.Fatalf("bench %s: bad result %q", role, kv)
			}
		}
		return res
	}
	b.Fatalf("bench %s printed no result: %q", role, out)
	return nil
}

// startBenchResponder runs the responder child until the benchmark ends and
// returns its address.
func startBenchResponder(b *testing.B, e benchEnv) string {
	b.Helper()
	cmd := benchChild(b, "responder", e)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("bench responder: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("bench responder did not start: %v", err)
	}
	return strings.TrimPrefix(strings.TrimSpace(line), "READY ")
}

// memSampler tracks the peak of the process's memory while it runs.
type memSampler struct {
	stop chan struct{}
	done chan struct{}
	peak memUse
}

// memUse is a reading of the process's memory, in bytes.
type memUse struct {
	rss      int64 // VmRSS
	anon     int64 // RssAnon: RSS less file-backed pages such as mmapped tables
	heapLive int64 // live heap as of the last GC
}

func startMemSampler() *memSampler {
	m := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	m.sample()
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				m.sample()
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *memSampler) sample() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	m.peak.rss = max(m.peak.rss, procStatus("VmRSS:"))
	m.peak.anon = max(m.peak.anon, procStatus("RssAnon:"))
	m.peak.heapLive = max(m.peak.heapLive, int64(s[0].Value.Uint64()))
}

// finish stops sampling and returns the peaks.
func (m *memSampler) finish() memUse {
	close(m.stop)
	<-m.done
	return m.peak
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkCatchUp100k pulls 100,000 records of 1 KiB over loopback TCP
// into an empty on-disk replica, in a fresh process per pull, and compares
// with raw Badger writing as many entries in a WriteBatch. The initiator's
// store runs with the default memtable and with a small one; a store that
// keeps nothing separates the protocol's own cost from Badger's.
func BenchmarkCatchUp100k(b *testing.B) {
	e := benchEnv{records: 100_000, valueSize: 1024}
	e.peer = startBenchResponder(b, e)
	raw := float64(e.records) / runBenchChildResult(b, "raw", e)["seconds"]
	variants := []struct {
		name     string
		memTable int64
		discard  bool
	}{
		{"store=default", 0, false},
		{"store=memtable8MiB", 8 << 20, false},
		{"store=discard", 0, true},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			e := e
			e.memTable, e.discard = v.memTable, v.discard
			var records, secs, rss, anon, heap float64
			for range b.N {
				r := runBenchChildResult(b, "initiator", e)
				records += r["records"]
				secs += r["seconds"]
				rss, anon, heap = max(rss, r["rss"]), max(anon, r["anon"]), max(heap, r["heap"])
			}
			rate := records / secs
			b.ReportMetric(rate, "records/s")
			b.ReportMetric(raw, "raw-badger-entries/s")
			b.ReportMetric(rate/raw, "x-raw")
			b.ReportMetric(rss/(1<<20), "rss-growth-MiB")
			b.ReportMetric(anon/(1<<20), "anon-rss-growth-MiB")
			b.ReportMetric(heap/(1<<20), "live-heap-growth-MiB")
		})
	}
}

// BenchmarkInSyncRound measures a pull between two replicas that already
// agree, against a bare stream round trip on the same hosts.
func BenchmarkInSyncRound(b *testing.B) {
	for _, n := range []int{10_000, 200_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			a, peerB := inSyncPair(b, n)
			ping := pingRoundTrip(b, a.h, peerB.h, 500)
			ctx := context.Background()
			var wire int64
			b.ResetTimer()
			for range b.N {
				res, err := a.svc.Sync(ctx, peerB.h.ID())
				if err != nil {
					b.Fatal(err)
				}
				if res.RecordsReceived != 0 {
					b.Fatalf("in-sync round received %d records", res.RecordsReceived)
				}
				wire = res.BytesSent + res.BytesReceived
			}
			b.StopTimer()
			round := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(wire), "wire-bytes/round")
			b.ReportMetric(float64(ping.Microseconds()), "ping-µs")
			b.ReportMetric(float64(round)/float64(ping), "x-ping")
		})
	}
}

// inSyncPair returns two loopback nodes whose on-disk stores hold the same
// n small records from four origins.
func inSyncPair(b *testing.B, n int) (*node, *node) {
	b.Helper()
	nodes := make([]*node, 2)
	for i := range nodes {
		h := mustLoopbackHost(b)
		st, err := store.Open(store.Options{Dir: b.TempDir(), Origin: crdt.NodeID(h.ID().String()), Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		for o := range 4 {
			if err := fillStore(st, crdt.NodeID(fmt.Sprintf("12D3KooWBenchOrigin%d", o)), n/4, 16); err != nil {
				b.Fatal(err)
			}
		}
		svc := New(h, Config{Store: st, Logger: discardLogger()})
		b.Cleanup(svc.Close)
		nodes[i] = &node{h: h, st: st, svc: svc}
	}
	if err := nodes[0].h.Connect(context.Background(), peer.AddrInfo{ID: nodes[1].h.ID(), Addrs: nodes[1].h.Addrs()}); err != nil {
		b.Fatal(err)
	}
	if nodes[0].st.Digest() != nodes[1].st.Digest() {
		b.Fatal("replicas differ")
	}
	return nodes[0], nodes[1]
}

const pingProtocol protocol.ID = "/syncnode/bench-ping/1.0.0"

// pingRoundTrip returns the mean time to open a stream from a to b, send
// one byte and read it back: the floor under any request/response round.
func pingRoundTrip(b *testing.B, a, to host.Host, rounds int) time.Duration {
	b.Helper()
	to.SetStreamHandler(pingProtocol, func(s network.Stream) {
		defer s.Close()
		var buf [1]byte
		if _, err := io.ReadFull(s, buf[:]); err == nil {
			_, _ = s.Write(buf[:])
		}
	})
	ctx := context.Background()
	start := time.Now()
	for range rounds {
		s, err := a.NewStream(ctx, to.ID(), pingProtocol)
		if err != nil {
			b.Fatal(err)
		}
		var buf [1]byte
		if _, err := s.Write([]byte{1}); err != nil {
			b.Fatal(err)
		}
		_ = s.CloseWrite()
		if _, err := io.ReadFull(s, buf[:]); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	return time.Since(start) / time.Duration(rounds)
}
