package relay_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// filesHolding lists the files under dir that contain marker.
func filesHolding(t *testing.T, dir string, marker []byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, marker) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestRelayFilesHoldNoPlaintext(t *testing.T) {
	g := newGroup(t)
	dev := g.device(g.token("laptop"))
	const secret, public = "marker-4f1c9e2a-secret", "marker-77b0d3c5-public"
	put(t, dev, "tasks", "t1", `{"note":"`+secret+`"}`)
	// The control: a value in an open namespace is stored as it is, so the
	// scan below can find what is there.
	put(t, dev, "open/board", "b1", `{"note":"`+public+`"}`)
	eventually(t, "the relay holds both records", func() bool {
		return held(g.relay.Node(), "tasks", "t1") && held(g.relay.Node(), "open/board", "b1")
	})
	if err := g.relay.Close(); err != nil {
		t.Fatal(err)
	}
	if len(filesHolding(t, g.dir, []byte(public))) == 0 {
		t.Fatal("the open value is in no relay file: the scan cannot see stored values")
	}
	if found := filesHolding(t, g.dir, []byte(secret)); len(found) != 0 {
		t.Fatalf("the relay stores plaintext of an encrypted value in %v", found)
	}
	if got, err := dev.Get("tasks", "t1"); err != nil || !bytes.Contains(got.Value, []byte(secret)) {
		t.Fatalf("the device reads %s, %v", got.Value, err)
	}
}
