package httpsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/syncnode/syncnode/relay/httpsync"
	"github.com/syncnode/syncnode/store"
)

// benchBatch is how many records one benchmark request pushes.
const benchBatch = 500

// benchValue is a record of typical size for a task list.
var benchValue = json.RawMessage(`{"title":"buy milk and bread on the way home","done":false,"tags":["home","errand"],"due":"2025-06-15"}`)

// openDisk opens a durable store in a temporary directory.
func openDisk(b *testing.B) *store.Store {
	b.Helper()
	st, err := store.Open(store.Options{Dir: b.TempDir(), Origin: relayOrigin, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkPush measures records/s pushed in batches of benchBatch: through
// the handler over loopback HTTP ("http"), and through store.WriteAll alone
// as the baseline ("direct"), each into a durable on-disk store.
func BenchmarkPush(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		st := openDisk(b)
		ws := make([]store.Write, benchBatch)
		b.ResetTimer()
		for i := range b.N {
			for j := range ws {
				ws[j] = store.Write{NS: "tasks", Key: fmt.Sprintf("k%d-%d", i, j), Value: benchValue}
			}
			res, err := st.WriteAll(context.Background(), ws)
			if err != nil || !res[benchBatch-1].Applied {
				b.Fatalf("write all: %v", err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("http", func(b *testing.B) {
		st := openDisk(b)
		auth := &fakeAuth{tokens: map[string]string{tokenA: "laptop"}}
		srv := httptest.NewServer(httpsync.NewHandler(httpsync.Config{
			Auth: auth, Store: st, Logger: slog.New(slog.DiscardHandler),
		}))
		b.Cleanup(srv.Close)
		client := srv.Client()
		req := httpsync.SyncRequest{Changes: make([]httpsync.Push, benchBatch)}
		b.ResetTimer()
		for i := range b.N {
			for j := range req.Changes {
				req.Changes[j] = httpsync.Push{NS: "tasks", Key: fmt.Sprintf("k%d-%d", i, j), Value: benchValue}
			}
			req.Since = benchSync(b, client, srv.URL, req)
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
	})
}

// benchSync posts req and returns the next since, checking that the whole
// batch was applied and returned.
func benchSync(b *testing.B, client *http.Client, url string, req httpsync.SyncRequest) uint64 {
	body, err := json.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	hreq, err := http.NewRequest(http.MethodPost, url+httpsync.SyncPath, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	hreq.Header.Set("Authorization", "Bearer "+tokenA)
	res, err := client.Do(hreq)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out httpsync.SyncResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("status %d: %v", res.StatusCode, err)
	}
	if len(out.Rejected) != 0 || len(out.Changes) != benchBatch {
		b.Fatalf("%d rejected, %d changes returned", len(out.Rejected), len(out.Changes))
	}
	return out.ServerSeq
}
