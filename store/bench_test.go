package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Every store benchmark runs beside its raw Badger baseline, on the same
// options (SyncWrites on, 64 MiB memtable), so one run of
//
//	go test -bench . -run '^$' ./store
//
// prints both; compare the ops/s metrics.

// benchValue is a 1 KiB JSON document.
var benchValue = []byte(`"` + strings.Repeat("v", 1<<10-2) + `"`)

func benchKey(i int) string { return string(strconv.AppendInt([]byte("key-"), int64(i), 10)) }

// openBenchStore opens a durable store with production defaults.
func openBenchStore(b *testing.B) *Store {
	b.Helper()
	return mustOpen(b, Options{Dir: b.TempDir(), Origin: "bench", Logger: discardLogger()})
}

// openBenchBadger opens a raw Badger with the options a durable store uses.
func openBenchBadger(b *testing.B) *badger.DB {
	b.Helper()
	db, err := badger.Open(badgerOptions(Options{Dir: b.TempDir()}, discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// runClients performs b.N operations from clients goroutines, each waiting
// for its operation to return before starting the next, and reports ops/s.
func runClients(b *testing.B, clients int, do func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	b.SetBytes(int64(len(benchValue)))
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// flushWriter is the raw Badger analogue of the store's group commit: one
// goroutine takes every request queued, writes them with one WriteBatch,
// flushes (an fsync, with SyncWrites on) and acknowledges them all.
type flushWriter struct {
	db   *badger.DB
	reqs chan flushReq
	done chan struct{}
}

type flushReq struct {
	key []byte
	ack chan error
}

func newFlushWriter(db *badger.DB) *flushWriter {
	w := &flushWriter{db: db, reqs: make(chan flushReq, 1024), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *flushWriter) put(key []byte) error {
	ack := make(chan error, 1)
	w.reqs <- flushReq{key, ack}
	return <-ack
}

func (w *flushWriter) close() {
	close(w.reqs)
	<-w.done
}

func (w *flushWriter) loop() {
	defer close(w.done)
	var batch []flushReq
	for r := range w.reqs {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < maxBatchOps {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		wb := w.db.NewWriteBatch()
		var err error
		for _, r := range batch {
			if err = wb.Set(r.key, benchValue); err != nil {
				break
			}
		}
		if err == nil {
			err = wb.Flush()
		} else {
			wb.Cancel()
		}
		for _, r := range batch {
			r.ack <- err
		}
	}
}

// BenchmarkDurablePut measures acknowledged, fsynced single-record writes of
// 1 KiB values from concurrent clients:
//
//   - store: Store.Put;
//   - badger-update: each client runs its own db.Update, one transaction per
//     write (Badger groups concurrent commits into one fsync itself);
//   - badger-writebatch: clients feed one writer that commits everything
//     queued as one WriteBatch per flush, the reference for the store;
//   - badger-writebatch-bulk: one WriteBatch of b.N entries and one Flush,
//     an upper bound no acknowledged-write path can reach.
func BenchmarkDurablePut(b *testing.B) {
	ctx := context.Background()
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("store/clients=%d", clients), func(b *testing.B) {
			s := openBenchStore(b)
			runClients(b, clients, func(i int) error {
				_, err := s.Put(ctx, "bench", benchKey(i), benchValue)
				return err
			})
		})
		b.Run(fmt.Sprintf("badger-update/clients=%d", clients), func(b *testing.B) {
			db := openBenchBadger(b)
			runClients(b, clients, func(i int) error {
				return db.Update(func(txn *badger.Txn) error {
					return txn.Set([]byte(benchKey(i)), benchValue)
				})
			})
		})
		b.Run(fmt.Sprintf("badger-writebatch/clients=%d", clients), func(b *testing.B) {
			w := newFlushWriter(openBenchBadger(b))
			defer w.close()
			runClients(b, clients, func(i int) error { return w.put([]byte(benchKey(i))) })
		})
	}
	b.Run("badger-writebatch-bulk", func(b *testing.B) {
		db := openBenchBadger(b)
		b.SetBytes(int64(len(benchValue)))
		b.ResetTimer()
		wb := db.NewWriteBatch()
		for i := range b.N {
			if err := wb.Set([]byte(benchKey(i)), benchValue); err != nil {
				b.Fatal(err)
			}
		}
		if err := wb.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// BenchmarkGet measures point reads of 1 KiB records: Store.Get against a
// raw txn.Get of the same Badger keys, copying the value out, in the same
// database.
func BenchmarkGet(b *testing.B) {
	const records = 10000
	s := openBenchStore(b)
	recs := make([]crdt.Record, records)
	rawKeys := make([][]byte, records)
	for i := range recs {
		recs[i] = remote("bench", benchKey(i), string(benchValue), stamp(0), "writer", uint64(i+1))
		rawKeys[i] = recordKey("bench", benchKey(i))
	}
	if res, err := s.Apply(context.Background(), recs); err != nil || len(res.Applied) != records {
		b.Fatalf("load: %v, applied %d", err, len(res.Applied))
	}
	keys := make([]string, records)
	for i := range keys {
		keys[i] = benchKey(i)
	}

	run := func(b *testing.B, get func(i int) error) {
		var seed atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed.Add(1), 0))
			for pb.Next() {
				if err := get(rng.IntN(records)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	}
	b.Run("store", func(b *testing.B) {
		run(b, func(i int) error {
			r, err := s.Get("bench", keys[i])
			if err == nil && len(r.Value) != len(benchValue) {
				err = fmt.Errorf("read %d bytes", len(r.Value))
			}
			return err
		})
	})
	b.Run("badger", func(b *testing.B) {
		run(b, func(i int) error {
			return s.db.View(func(txn *badger.Txn) error {
				item, err := txn.Get(rawKeys[i])
				if err != nil {
					return err
				}
				v, err := item.ValueCopy(nil)
				if err == nil && len(v) <= len(benchValue) {
					err = fmt.Errorf("read %d bytes", len(v))
				}
				return err
			})
		})
	})
}
