package node_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/group"
)

// TestMetricsReportTheReplica: /metrics, behind the API token, reports the
// replica as Prometheus gauges, the group's device list left out of the
// record count.
func TestMetricsReportTheReplica(t *testing.T) {
	secret, _ := group.NewSecret()
	dir := filepath.Join(t.TempDir(), "dev")
	n := deviceAt(t, dir, secret)
	must(n.Put(context.Background(), "tasks", "t1", []byte(`1`)))
	d, err := datadir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	token, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}

	req, err := http.NewRequest("GET", "http://"+n.APIAddr()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", res.StatusCode, err)
	}
	for _, want := range []string{"\nsyncnode_records 1\n", "\nsyncnode_tombstones 0\n", "\nsyncnode_refilling_keys 0\n", "\nsyncnode_peers_connected 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
}
