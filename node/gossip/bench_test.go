package gossip_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/gossip"
	"github.com/syncnode/syncnode/store"
)

const (
	benchNodes = 8
	// benchWait bounds each wait for delivery; a lost message fails the
	// benchmark instead of hanging it.
	benchWait = 30 * time.Second
)

// loopbackHosts returns n libp2p hosts on 127.0.0.1 TCP. Connect them with
// connectHosts once their pubsubs run.
func loopbackHosts(b *testing.B, n int) []host.Host {
	b.Helper()
	hosts := make([]host.Host, n)
	for i := range hosts {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
		if err != nil {
			b.Fatalf("host: %v", err)
		}
		b.Cleanup(func() { h.Close() })
		hosts[i] = h
	}
	return hosts
}

// connectHosts connects every pair of hosts.
func connectHosts(b *testing.B, hosts []host.Host) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), benchWait)
	defer cancel()
	for i, a := range hosts {
		for _, c := range hosts[i+1:] {
			if err := a.Connect(ctx, peer.AddrInfo{ID: c.ID(), Addrs: c.Addrs()}); err != nil {
				b.Fatalf("connect: %v", err)
			}
		}
	}
}

// waitTopicPeers waits until every listed function reports all n-1 peers.
func waitTopicPeers(b *testing.B, n int, lists ...func() []peer.ID) {
	b.Helper()
	for _, list := range lists {
		waitFor(b, "topic peers", func() bool { return len(list()) == n-1 })
	}
}

// appliedHook reports every record a store applies from a peer.
type appliedHook struct {
	*store.Store
	applied chan<- crdt.Version
}

func (h appliedHook) Apply(ctx context.Context, recs []crdt.Record) (store.ApplyResult, error) {
	res, err := h.Store.Apply(ctx, recs)
	for _, r := range res.Applied {
		h.applied <- r.Version
	}
	return res, err
}

// benchGossip starts gossip on 8 loopback hosts over in-memory stores. Every
// record a receiver applies is reported on the returned channel.
func benchGossip(b *testing.B) ([]*testNode, <-chan crdt.Version) {
	b.Helper()
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	applied := make(chan crdt.Version, 1<<16)
	hosts := loopbackHosts(b, benchNodes)
	nodes := make([]*testNode, benchNodes)
	for i, h := range hosts {
		nodes[i] = startNode(b, h, func(c *gossip.Config) {
			c.ScoreWhitelist = []*net.IPNet{loopback}
			c.Store = appliedHook{Store: c.Store.(*store.Store), applied: applied}
		})
	}
	connectHosts(b, hosts)
	lists := make([]func() []peer.ID, len(nodes))
	for i, n := range nodes {
		lists[i] = n.gossip.Peers
	}
	waitTopicPeers(b, benchNodes, lists...)
	return nodes, applied
}

// awaitN waits for n values equal to want on ch.
func awaitN[T comparable](b *testing.B, ch <-chan T, want T, n int) {
	b.Helper()
	timeout := time.NewTimer(benchWait)
	defer timeout.Stop()
	for n > 0 {
		select {
		case v := <-ch:
			if v == want {
				n--
			}
		case <-timeout.C:
			b.Fatalf("%d deliveries missing after %v", n, benchWait)
		}
	}
}

// reportPercentiles reports the p50 and p99 of lat in milliseconds, each
// metric's unit prefixed by prefix.
func reportPercentiles(b *testing.B, prefix string, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(q int) float64 {
		return float64(lat[min(len(lat)-1, len(lat)*q/100)].Microseconds()) / 1000
	}
	b.ReportMetric(ms(50), prefix+"p50-ms")
	b.ReportMetric(ms(99), prefix+"p99-ms")
}

// BenchmarkPropagation8 measures one 1 KiB write on node 0, from Put until
// all 7 other nodes have applied it, over real TCP on loopback. put-p50-ms
// is the local commit alone, which the raw baseline does not include.
func BenchmarkPropagation8(b *testing.B) {
	nodes, applied := benchGossip(b)
	w := nodes[0]
	value := jsonValue(1<<10, 'v')
	write := func(i int) crdt.Version {
		return w.put(b, "bench", fmt.Sprintf("k%d", i), value).Version
	}
	for i := range 10 { // warm up streams and the mesh
		awaitN(b, applied, write(-1-i), benchNodes-1)
	}
	var lat, put []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		v, err := w.store.Put(context.Background(), "bench", fmt.Sprintf("k%d", i), value)
		if err != nil {
			b.Fatalf("put: %v", err)
		}
		put = append(put, time.Since(start))
		w.gossip.Publish(crdt.Record{NS: "bench", Key: fmt.Sprintf("k%d", i), Value: value, Version: v})
		awaitN(b, applied, v, benchNodes-1)
		lat = append(lat, time.Since(start))
		i++
	}
	reportPercentiles(b, "", lat)
	reportPercentiles(b, "put-", put)
}

// BenchmarkRawGossipSub8 is the baseline for BenchmarkPropagation8: plain
// GossipSub (strict signing, flood publish, no scoring, no validator, no
// store) publishing 1 KiB from node 0 until all 7 others receive it.
func BenchmarkRawGossipSub8(b *testing.B) {
	hosts := loopbackHosts(b, benchNodes)
	received := make(chan uint64, 1<<16)
	topics := make([]*pubsub.Topic, len(hosts))
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	for i, h := range hosts {
		ps, err := pubsub.NewGossipSub(ctx, h,
			pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
			pubsub.WithFloodPublish(true))
		if err != nil {
			b.Fatalf("gossipsub: %v", err)
		}
		if topics[i], err = ps.Join(testTopic); err != nil {
			b.Fatalf("join: %v", err)
		}
		sub, err := topics[i].Subscribe()
		if err != nil {
			b.Fatalf("subscribe: %v", err)
		}
		if i == 0 {
			continue
		}
		go func() {
			for {
				msg, err := sub.Next(ctx)
				if err != nil {
					return
				}
				received <- binary.BigEndian.Uint64(msg.Data)
			}
		}()
	}
	connectHosts(b, hosts)
	lists := make([]func() []peer.ID, len(topics))
	for i, t := range topics {
		lists[i] = t.ListPeers
	}
	waitTopicPeers(b, benchNodes, lists...)

	data := make([]byte, 1<<10)
	publish := func(i uint64) {
		binary.BigEndian.PutUint64(data, i)
		if err := topics[0].Publish(ctx, data); err != nil {
			b.Fatalf("publish: %v", err)
		}
	}
	const warmup = 10
	for i := range uint64(warmup) {
		publish(i)
		awaitN(b, received, i, benchNodes-1)
	}
	var lat []time.Duration
	i := uint64(warmup)
	for b.Loop() {
		start := time.Now()
		publish(i)
		awaitN(b, received, i, benchNodes-1)
		lat = append(lat, time.Since(start))
		i++
	}
	reportPercentiles(b, "", lat)
}

// BenchmarkBurst10k8 measures 10,000 single writes on node 0, each Put and
// then Published on its own, until all 8 nodes hold every one.
func BenchmarkBurst10k8(b *testing.B) {
	const writes = 10_000
	nodes, applied := benchGossip(b)
	go func() { // the hook's reports are not needed here
		for range applied {
		}
	}()
	w := nodes[0]
	var total time.Duration
	var msgs uint64
	round := 0
	for b.Loop() {
		before := w.gossip.Stats().PublishedMessages
		start := time.Now()
		for i := range writes {
			w.put(b, "burst", fmt.Sprintf("r%d-%d", round, i), []byte(`{"n":1}`))
		}
		for _, n := range nodes[1:] {
			awaitLive(b, n.store, int64(round+1)*writes)
		}
		total += time.Since(start)
		msgs += w.gossip.Stats().PublishedMessages - before
		round++
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(round), "ms/10k")
	b.ReportMetric(float64(msgs)/float64(round), "msgs/10k")
}

// awaitLive waits until st holds at least want live records. It counts
// records rather than reading the version vector, which also needs every
// earlier seq: "holds them all" is what is measured.
func awaitLive(b *testing.B, st *store.Store, want int64) {
	b.Helper()
	timeout := time.NewTimer(benchWait)
	defer timeout.Stop()
	for {
		changed := st.Changed()
		if st.Stats().Live >= want {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			b.Fatalf("%d of %d records after %v", st.Stats().Live, want, benchWait)
		}
	}
}
