package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
)

// benchClients is how many clients write at once.
const benchClients = 16

// BenchmarkHTTPPut16 measures durable 1 KiB PUTs from 16 keep-alive clients
// through a loopback server backed by an on-disk store. Two baselines run
// beside it: bare HTTP round trips (GET /healthz) to the same server, and
// the same writes made on the store directly, which is the fsync-bound
// ceiling for 16 concurrent writers.
func BenchmarkHTTPPut16(b *testing.B) {
	backend := apitest.NewBackend(b, b.TempDir())
	ts := apitest.NewServer(b, api.Config{Backend: backend})
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        2 * benchClients,
		MaxIdleConnsPerHost: 2 * benchClients,
		DisableCompression:  true,
	}}
	b.Cleanup(client.CloseIdleConnections)
	value := []byte(`{"data":"` + strings.Repeat("x", 1024-len(`{"data":""}`)) + `"}`)

	b.Run("baseline-healthz", func(b *testing.B) {
		runClients(b, "round-trips/s", func(int) error {
			req, err := http.NewRequest("GET", ts.URL+"/healthz", nil)
			if err != nil {
				return err
			}
			return roundTrip(client, req)
		})
	})
	b.Run("baseline-store", func(b *testing.B) {
		b.SetBytes(int64(len(value)))
		runClients(b, "writes/s", func(i int) error {
			_, err := backend.Put(context.Background(), "direct", fmt.Sprintf("k%d", i), value)
			return err
		})
	})
	b.Run("put", func(b *testing.B) {
		b.SetBytes(int64(len(value)))
		runClients(b, "writes/s", func(i int) error {
			req, err := http.NewRequest("PUT", fmt.Sprintf("%s/v1/records/bench/k%d", ts.URL, i), bytes.NewReader(value))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+apitest.Token)
			return roundTrip(client, req)
		})
	})
}

// runClients runs op b.N times from benchClients goroutines and reports the
// rate as unit.
func runClients(b *testing.B, unit string, op func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range benchClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func roundTrip(client *http.Client, req *http.Request) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, res.StatusCode)
	}
	return nil
}
