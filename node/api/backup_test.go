package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
	"github.com/syncnode/syncnode/node/client"
	"github.com/syncnode/syncnode/store"
)

// TestBackup fetches a backup over the API, restores it, and finds the
// records there; a restored store refuses writes with 503 until it syncs.
func TestBackup(t *testing.T) {
	ts, b := newServer(t)
	put(t, ts, "/v1/records/tasks/a", `{"n":1}`)
	put(t, ts, "/v1/records/tasks/b", `2`)
	del(t, ts, "/v1/records/tasks/b")

	res := do(t, ts, request{method: "GET", path: "/v1/backup"})
	if res.code != 200 || res.header.Get("Content-Type") != api.BackupContentType {
		t.Fatalf("backup: status %d, Content-Type %q", res.code, res.header.Get("Content-Type"))
	}
	var viaClient bytes.Buffer
	c := client.New(ts.Addr, apitest.Token)
	if n, err := c.Backup(context.Background(), &viaClient); err != nil || n != int64(viaClient.Len()) {
		t.Fatalf("client backup: %d bytes, %v (buffer %d)", n, err, viaClient.Len())
	}

	for name, backup := range map[string][]byte{"http": res.body, "client": viaClient.Bytes()} {
		dir := filepath.Join(t.TempDir(), "db")
		if err := store.Restore(dir, bytes.NewReader(backup), false); err != nil {
			t.Fatalf("%s: restore: %v", name, err)
		}
		restored := apitest.NewBackend(t, dir)
		if restored.Digest() != b.Digest() {
			t.Fatalf("%s: restored digest %v, want %v", name, restored.Digest(), b.Digest())
		}
		rts := apitest.NewServer(t, api.Config{Backend: restored})
		if got := get(t, rts, "/v1/records/tasks/a"); string(got.Value) != `{"n":1}` {
			t.Fatalf("%s: restored tasks/a = %s", name, got.Value)
		}
		do(t, rts, request{method: "GET", path: "/v1/records/tasks/b"}).want(t, 404)
		do(t, rts, request{method: "PUT", path: "/v1/records/tasks/c", body: "1"}).want(t, 503)
		do(t, rts, request{method: "DELETE", path: "/v1/records/tasks/a"}).want(t, 503)
	}
}

func TestBackupErrors(t *testing.T) {
	ts, _ := newServer(t)
	do(t, ts, request{method: "GET", path: "/v1/backup", auth: "-"}).want(t, 401)
	do(t, ts, request{method: "POST", path: "/v1/backup"}).want(t, 405)

	failing := apitest.NewServer(t, api.Config{Backend: backupBackend{apitest.NewBackend(t, ""), 0}})
	do(t, failing, request{method: "GET", path: "/v1/backup"}).want(t, 503)
}

// TestBackupCutShort: a backup that fails after sending bytes must reach
// the client as an error, not as a shorter backup.
func TestBackupCutShort(t *testing.T) {
	ts := apitest.NewServer(t, api.Config{Backend: backupBackend{apitest.NewBackend(t, ""), 100 << 10}})
	var buf bytes.Buffer
	n, err := client.New(ts.Addr, apitest.Token).Backup(context.Background(), &buf)
	if err == nil {
		t.Fatalf("backup cut short after %d bytes reported success", n)
	}
}

// backupBackend writes sendFirst bytes of a backup, then fails as a
// closing store does.
type backupBackend struct {
	*apitest.Backend
	sendFirst int
}

func (b backupBackend) Backup(w io.Writer) (int64, error) {
	n, err := w.Write(make([]byte, b.sendFirst))
	if err != nil {
		return int64(n), err
	}
	return int64(n), errors.Join(errors.New("backup interrupted"), store.ErrClosed)
}
