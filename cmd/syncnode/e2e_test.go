package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the syncnode binary built once for the end-to-end tests, which
// drive it exactly as a user does: separate processes, flags, the data dir.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syncnode-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "syncnode")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build syncnode: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs one syncnode command to completion.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// mustCLI runs a command that must succeed.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runCLI(t, "", args...)
	if err != nil {
		t.Fatalf("syncnode %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// cleanEnv drops SYNCNODE_* variables so the host's settings cannot leak in.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SYNCNODE_") {
			env = append(env, kv)
		}
	}
	return env
}

// daemon is a `syncnode run` process started by a test.
type daemon struct {
	cmd  *exec.Cmd
	data string
	logs *bytes.Buffer
}

// startNode runs a node on loopback with mDNS off, and waits until its API
// answers.
func startNode(t *testing.T, data string, extra ...string) *daemon {
	t.Helper()
	return startDaemon(t, data, append([]string{"run", "--data", data, "--no-mdns",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0", "--sync-interval", "2s"}, extra...)...)
}

// startDaemon runs a long-lived syncnode command and waits until its API
// answers through the data dir.
func startDaemon(t *testing.T, data string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	d := &daemon{cmd: cmd, data: data, logs: logs}
	t.Cleanup(func() { d.kill() })
	eventually(t, 20*time.Second, "node API up", func() bool {
		_, _, err := runCLI(t, "", "status", "--data", data)
		return err == nil
	})
	return d
}

// kill stops the process with SIGKILL, as a crash would.
func (d *daemon) kill() {
	if d.cmd.ProcessState == nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	}
}

// stop asks the node to shut down cleanly and waits for it.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal node: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node exited with %v after SIGTERM\n%s", err, d.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("node did not stop within 15s of SIGTERM\n%s", d.logs)
	}
	if _, err := os.Stat(filepath.Join(d.data, "api-addr")); !os.IsNotExist(err) {
		t.Errorf("api-addr left behind after a clean shutdown (stat: %v)", err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

func TestSingleNodeWalkthrough(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	node := startNode(t, data)

	// watch is started first and must see the put and the delete.
	watch := exec.Command(binary, "watch", "tasks", "--data", data, "--json")
	watch.Env = cleanEnv()
	wout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watch.Process.Kill(); _ = watch.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(wout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The watcher connects asynchronously; writes before it subscribes
	// would be missed, so keep writing a marker until it shows up.
	eventually(t, 10*time.Second, "watch to see a marker", func() bool {
		mustCLI(t, "put", "tasks", "marker", "1", "--data", data)
		select {
		case l := <-lines:
			return strings.Contains(l, `"marker"`)
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})

	mustCLI(t, "put", "tasks", "t1", `{"title":"x"}`, "--data", data)
	if got := strings.TrimSpace(mustCLI(t, "get", "tasks", "t1", "--data", data)); got != `{"title":"x"}` {
		t.Fatalf("get tasks t1 = %q", got)
	}
	var rec struct {
		NS, Key string
		Value   json.RawMessage
		Version struct {
			HLC    string `json:"hlc"`
			Origin string `json:"origin"`
			Seq    uint64 `json:"seq"`
		}
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "get", "tasks", "t1", "--data", data, "--json")), &rec); err != nil {
		t.Fatalf("get --json: %v", err)
	}
	if rec.Version.HLC == "" || rec.Version.Origin == "" || rec.Version.Seq == 0 {
		t.Fatalf("get --json has no version: %+v", rec)
	}
	if _, _, err := runCLI(t, `{"title":"from stdin"}`, "put", "tasks", "t2", "-", "--data", data); err != nil {
		t.Fatalf("put from stdin: %v", err)
	}
	ls := mustCLI(t, "ls", "tasks", "--prefix", "t", "--data", data)
	if !strings.Contains(ls, "t1\t{\"title\":\"x\"}") || !strings.Contains(ls, "t2\t{\"title\":\"from stdin\"}") || strings.Contains(ls, "marker") {
		t.Fatalf("ls --prefix t:\n%s", ls)
	}
	mustCLI(t, "del", "tasks", "t1", "--data", data)
	if _, errOut, err := runCLI(t, "", "get", "tasks", "t1", "--data", data); err == nil || !strings.Contains(errOut, "deleted") {
		t.Fatalf("get after del: err=%v stderr=%q, want an error saying it was deleted", err, errOut)
	}
	seen := map[string]bool{}
	eventually(t, 10*time.Second, "watch to see put and del of t1", func() bool {
		select {
		case l := <-lines:
			if strings.Contains(l, `"key":"t1"`) {
				seen[fmt.Sprint(strings.Contains(l, `"deleted":true`))] = true
			}
		case <-time.After(100 * time.Millisecond):
		}
		return seen["false"] && seen["true"]
	})

	// Bad input gets a clear error and a non-zero exit; the node keeps serving.
	for _, bad := range [][]string{
		{"put", "tasks", "t3", "not json"},
		{"put", "bad ns!", "k", "1"},
		{"put", "tasks", strings.Repeat("k", 600), "1"},
		{"get", "tasks"},
		{"ls", "tasks", "--limit", "-1"},
	} {
		_, errOut, err := runCLI(t, "", append(bad, "--data", data)...)
		if err == nil || strings.TrimSpace(errOut) == "" {
			t.Errorf("syncnode %v: err=%v stderr=%q, want a failure with a message", bad, err, errOut)
		}
	}
	mustCLI(t, "status", "--data", data)

	// Every acknowledged write survives kill -9.
	for i := range 50 {
		mustCLI(t, "put", "crash", fmt.Sprintf("k%02d", i), fmt.Sprint(i), "--data", data)
	}
	node.kill()
	startNode(t, data)
	got := mustCLI(t, "ls", "crash", "--data", data)
	if n := strings.Count(got, "\n"); n != 50 {
		t.Fatalf("after kill -9 and restart, ls crash has %d records, want 50:\n%s", n, got)
	}
	if got := strings.TrimSpace(mustCLI(t, "get", "tasks", "t2", "--data", data)); got != `{"title":"from stdin"}` {
		t.Fatalf("after restart get tasks t2 = %q", got)
	}
}

func TestClientWithoutNode(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	if _, errOut, err := runCLI(t, "", "get", "tasks", "t1", "--data", data); err == nil || !strings.Contains(errOut, "init") {
		t.Fatalf("get on a missing data dir: err=%v stderr=%q, want advice to init", err, errOut)
	}
	mustCLI(t, "init", "--data", data)
	if _, errOut, err := runCLI(t, "", "init", "--data", data); err == nil || !strings.Contains(errOut, "already") {
		t.Fatalf("second init: err=%v stderr=%q", err, errOut)
	}
	if _, errOut, err := runCLI(t, "", "status", "--data", data); err == nil || !strings.Contains(errOut, "run") {
		t.Fatalf("status with no node running: err=%v stderr=%q, want advice to run", err, errOut)
	}
	for _, f := range []string{"api-token", "identity.key", "group.secret"} {
		fi, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}

func TestInviteJoinCatchUp(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	startNode(t, a)
	code := strings.TrimSpace(strings.SplitN(mustCLI(t, "invite", "--data", a), "\n", 2)[0])
	mustCLI(t, "join", code, "--data", b)
	nb := startNode(t, b)

	mustCLI(t, "put", "notes", "n1", `"hello"`, "--data", a)
	eventually(t, 10*time.Second, "b to get n1", func() bool {
		out, _, err := runCLI(t, "", "get", "notes", "n1", "--data", b)
		return err == nil && strings.TrimSpace(out) == `"hello"`
	})

	// b goes away; a writes a backlog; b comes back and catches up.
	nb.stop(t)
	for i := range 20 {
		mustCLI(t, "put", "notes", fmt.Sprintf("late%02d", i), fmt.Sprint(i), "--data", a)
	}
	mustCLI(t, "del", "notes", "n1", "--data", a)
	startNode(t, b)
	eventually(t, 20*time.Second, "b to catch up on the backlog", func() bool {
		out, _, err := runCLI(t, "", "ls", "notes", "--data", b)
		return err == nil && strings.Count(out, "\n") == 20 && !strings.Contains(out, "n1\t")
	})
	eventually(t, 20*time.Second, "status to show the peers in sync", func() bool {
		out, _, err := runCLI(t, "", "peers", "--data", b, "--json")
		return err == nil && strings.Contains(out, `"in_sync":true`)
	})
}
