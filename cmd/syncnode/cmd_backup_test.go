package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupRestore backs up a running node, kills it, restores the backup
// into a new data dir and finds the records there.
func TestBackupRestore(t *testing.T) {
	tmp := t.TempDir()
	a := filepath.Join(tmp, "a")
	node := startNode(t, a)
	mustCLI(t, "put", "tasks", "t1", `{"title":"kept"}`, "--data", a)
	mustCLI(t, "put", "tasks", "t2", `2`, "--data", a)
	mustCLI(t, "del", "tasks", "t2", "--data", a)

	live := filepath.Join(tmp, "live.backup")
	if out := mustCLI(t, "backup", live, "--data", a); !strings.Contains(out, "running node") {
		t.Fatalf("backup of a running node: %q, want it taken through the node", out)
	}
	if _, err := os.Stat(live + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("backup left its temporary file: %v", err)
	}
	if _, errOut, err := runCLI(t, "", "restore", live, "--data", a); err == nil || !strings.Contains(errOut, "running") {
		t.Fatalf("restore under a running node: err=%v stderr=%q, want a refusal", err, errOut)
	}
	// A backup holds values sealed under the group's key: it is restored
	// into a data dir of the same group (a wiped device rejoins first).
	// Invites come from the running node, one code per device.
	b, c := filepath.Join(tmp, "b"), filepath.Join(tmp, "c")
	for _, dir := range []string{b, c} {
		var inv struct{ Code string }
		if err := json.Unmarshal([]byte(mustCLI(t, "invite", "--json", "--data", a)), &inv); err != nil {
			t.Fatal(err)
		}
		mustCLI(t, "join", inv.Code, "--data", dir)
	}
	node.kill()
	// With the node gone (its api-addr left behind), backup opens the store.
	offline := filepath.Join(tmp, "offline.backup")
	if out := mustCLI(t, "backup", offline, "--data", a); !strings.Contains(out, "store") {
		t.Fatalf("backup with no node: %q, want it taken from the store", out)
	}

	if out := mustCLI(t, "restore", live, "--data", b); !strings.Contains(out, "first sync") {
		t.Fatalf("restore: %q, want a note that local writes wait for a sync", out)
	}
	startNode(t, b)
	if got := strings.TrimSpace(mustCLI(t, "get", "tasks", "t1", "--data", b)); got != `{"title":"kept"}` {
		t.Fatalf("restored tasks t1 = %q", got)
	}
	if _, errOut, err := runCLI(t, "", "get", "tasks", "t2", "--data", b); err == nil || !strings.Contains(errOut, "deleted") {
		t.Fatalf("restored tasks t2: err=%v stderr=%q, want deleted", err, errOut)
	}
	if _, errOut, err := runCLI(t, "", "put", "tasks", "t3", "3", "--data", b); err == nil || !strings.Contains(errOut, "restored") {
		t.Fatalf("put on a restored node before any sync: err=%v stderr=%q, want a refusal", err, errOut)
	}

	// A standalone restore from stdin takes local writes at once.
	backup, err := os.ReadFile(offline)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "restore", "-", "--standalone", "--data", c)
	cmd.Env = cleanEnv()
	cmd.Stdin = bytes.NewReader(backup)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restore from stdin: %v\n%s", err, out)
	}
	startNode(t, c)
	mustCLI(t, "put", "tasks", "t3", "3", "--data", c)
	if got := strings.TrimSpace(mustCLI(t, "get", "tasks", "t1", "--data", c)); got != `{"title":"kept"}` {
		t.Fatalf("standalone-restored tasks t1 = %q", got)
	}
}

// TestRestoreBadFile: garbage is refused with a clear error and leaves the
// data dir's records as they were.
func TestRestoreBadFile(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "node")
	node := startNode(t, data)
	mustCLI(t, "put", "tasks", "t1", `1`, "--data", data)
	node.stop(t)

	garbage := filepath.Join(tmp, "garbage")
	if err := os.WriteFile(garbage, []byte("this is not a backup\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{garbage, filepath.Join(tmp, "missing")} {
		_, errOut, err := runCLI(t, "", "restore", file, "--data", data)
		if err == nil || !strings.Contains(errOut, "restore") {
			t.Fatalf("restore %s: err=%v stderr=%q, want a clear failure", file, err, errOut)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(data, "db.*")); len(entries) != 0 {
		t.Fatalf("failed restore left %v behind", entries)
	}
	// The old records are still there: a backup of them restores.
	again := filepath.Join(tmp, "again.backup")
	mustCLI(t, "backup", again, "--data", data)
	other := filepath.Join(tmp, "other")
	mustCLI(t, "init", "--data", other)
	mustCLI(t, "restore", again, "--data", other)
	if _, errOut, err := runCLI(t, "", "backup", filepath.Join(tmp, "x"), "--data", filepath.Join(tmp, "nothing")); err == nil || !strings.Contains(errOut, "init") {
		t.Fatalf("backup of an uninitialized dir: err=%v stderr=%q", err, errOut)
	}
}

// TestProgress: on a terminal the byte count is rewritten in place, at
// most four times a second; elsewhere nothing is printed.
func TestProgress(t *testing.T) {
	var term bytes.Buffer
	clock := time.Unix(1_750_000_000, 0)
	p := &progress{w: &term, verb: "backup", total: 4 << 20, now: func() time.Time { return clock }}
	w := p.wrapWriter(io.Discard)
	w.Write(make([]byte, 1<<20)) // the first update shows at once
	clock = clock.Add(progressEvery - 1)
	w.Write(make([]byte, 1<<20)) // within the throttle: not shown
	clock = clock.Add(1)
	w.Write(make([]byte, 1<<20)) // a quarter second after the first
	p.done()
	want := "\rbackup: 1.0 MiB of 4.0 MiB   \rbackup: 3.0 MiB of 4.0 MiB   \rbackup: 3.0 MiB of 4.0 MiB   \n"
	if got := term.String(); got != want {
		t.Fatalf("progress output %q, want %q", got, want)
	}

	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	for _, w := range []io.Writer{devNull, &bytes.Buffer{}} {
		if isTerminal(w) {
			t.Errorf("isTerminal(%T) = true", w)
		}
		p := newProgress(w, "restore", 0)
		p.wrapWriter(io.Discard).Write(make([]byte, 10))
		p.done()
	}
}
