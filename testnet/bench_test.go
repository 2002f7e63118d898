package testnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/syncnode/syncnode/testnet"
)

// BenchmarkBurst10k8 is the throughput figure: 10,000 single writes
// (1 KiB values) on one of 8 nodes over loopback TCP, timed until all 8
// hold them. Goal: 3 s or less.
func BenchmarkBurst10k8(b *testing.B) { benchBurst(b, 8, false) }

// BenchmarkBurst10k8InMemory is the same burst with in-memory stores. Eight
// devices have eight disks; eight testnet nodes share one, and their fsyncs
// queue behind one another. Without the disk this is what syncing itself
// costs, on the same two cores.
func BenchmarkBurst10k8InMemory(b *testing.B) { benchBurst(b, 8, true) }

// BenchmarkBurst10k1 is its baseline: the same writes on a lone node, so
// the cost of the store alone, with no one to sync with.
func BenchmarkBurst10k1(b *testing.B) { benchBurst(b, 1, false) }

func benchBurst(b *testing.B, nodes int, inMemory bool) {
	const writes = 10_000
	var total, converge time.Duration
	var aeRecords, msgs uint64
	for i := range b.N {
		b.StopTimer()
		n := newNet(b, testnet.Options{Nodes: nodes, Transport: testnet.TCP, Seed: int64(i), SyncInterval: testnet.DefaultSyncInterval, InMemory: inMemory})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		b.StartTimer()
		r, err := testnet.Burst(ctx, n, testnet.Params{Writes: writes, Seed: int64(i), Timeout: time.Minute})
		b.StopTimer()
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if !r.Converged {
			b.Fatalf("did not converge: %s", r.Diff)
		}
		total += r.Total
		converge += r.ConvergeTime
		aeRecords += r.Traffic.AntiEntropyRecords
		msgs += r.Traffic.GossipMessages
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	avg := total / time.Duration(b.N)
	b.ReportMetric(float64(avg)/float64(time.Millisecond), "ms")
	b.ReportMetric(writes/avg.Seconds(), "writes/s")
	b.ReportMetric(float64(converge/time.Duration(b.N))/float64(time.Millisecond), "converge-ms")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs")
	b.ReportMetric(float64(aeRecords)/float64(b.N), "AE-records")
}
