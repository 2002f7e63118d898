package netnstest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// childEnv holds the test name in a rerun child.
	childEnv = "SYNCNODE_NETNS_CHILD"
	// parentEnv holds the parent's network namespace identity, so that the
	// child can prove it runs somewhere else.
	parentEnv = "SYNCNODE_NETNS_PARENT"
	// ChildTimeout bounds a child's run; the parent kills a child that
	// outlives it by a little.
	ChildTimeout = 2 * time.Minute
)

// IsChild reports whether this process is the rerun child of RunChild or
// StartChild for tb's test.
func IsChild(tb testing.TB) bool {
	return os.Getenv(childEnv) == tb.Name()
}

// RequireIsolated fails tb at once unless this process runs in a network
// namespace other than its parent test's. A child calls it before it
// touches a socket: it is the guard that keeps multicast off the machine's
// real interfaces.
func RequireIsolated(tb testing.TB) {
	tb.Helper()
	parent := os.Getenv(parentEnv)
	own, err := namespaceID()
	if err != nil {
		tb.Fatalf("netnstest: read own network namespace: %v", err)
	}
	if parent == "" || own == parent {
		tb.Fatalf("netnstest: refusing to run: not in a namespace of the test's own (own %q, parent %q)", own, parent)
	}
}

// childCommand builds the command that reruns tb's test, and only it,
// inside ns with env added to this process's environment.
func childCommand(tb testing.TB, ctx context.Context, ns string, env ...string) *exec.Cmd {
	tb.Helper()
	parent, err := namespaceID()
	if err != nil {
		tb.Fatalf("netnstest: read own network namespace: %v", err)
	}
	parts := strings.Split(tb.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := Command(ctx, ns, os.Args[0],
		"-test.run="+strings.Join(parts, "/"), "-test.v", "-test.count=1",
		"-test.timeout="+ChildTimeout.String())
	// A race-enabled binary sleeps a second at exit unless told not to.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), childEnv+"="+tb.Name(), parentEnv+"="+parent, "GORACE="+gorace)
	cmd.Env = append(cmd.Env, env...)
	// The child leads its own process group, so that a kill reaches the
	// test binary under ip netns exec too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// RunChild reruns tb's test inside ns with env added to the environment,
// waits for it, logs its output and fails tb if the child failed or did not
// run the test.
func RunChild(tb testing.TB, ns string, env ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ChildTimeout+10*time.Second)
	defer cancel()
	out, err := childCommand(tb, ctx, ns, env...).CombinedOutput()
	tb.Logf("child in %s:\n%s", ns, out)
	if err != nil {
		tb.Fatalf("netnstest: child in %s: %v", ns, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+tb.Name()) {
		tb.Fatalf("netnstest: child in %s did not run %s", ns, tb.Name())
	}
}

// Child is a rerun of a test started by StartChild.
type Child struct {
	// NS is the namespace the child runs in.
	NS string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string

	mu  sync.Mutex
	out []string
}

// StartChild reruns tb's test inside ns with env added to the environment,
// without waiting for it. The child runs until its stdin closes (see
// WaitParent and StopAll). WaitLines watches its output. tb's cleanup kills
// the child's process group if it still runs.
func StartChild(tb testing.TB, ns string, env ...string) *Child {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ChildTimeout+10*time.Second)
	cmd := childCommand(tb, ctx, ns, env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		tb.Fatalf("netnstest: child stdin: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		tb.Fatalf("netnstest: child stdout: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("netnstest: start child in %s: %v", ns, err)
	}
	c := &Child{NS: ns, cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.mu.Lock()
			c.out = append(c.out, sc.Text())
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default: // nobody is waiting for lines; Output still has them
			}
		}
	}()
	tb.Cleanup(func() {
		cancel() // kills the child's process group if it still runs
		_ = cmd.Wait()
	})
	return c
}

// Output is everything the child printed so far, stdout and stderr.
func (c *Child) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.out, "\n")
}

// WaitLines waits until every child has printed a line containing substr.
// It fails tb as soon as one child exits without printing it, or when the
// deadline passes.
func WaitLines(tb testing.TB, substr string, deadline time.Time, children ...*Child) {
	tb.Helper()
	type result struct {
		c       *Child
		printed bool
	}
	results := make(chan result, len(children))
	stop := make(chan struct{})
	defer close(stop)
	for _, c := range children {
		go func() {
			for {
				select {
				case line, ok := <-c.lines:
					if !ok || strings.Contains(line, substr) {
						results <- result{c, ok}
						return
					}
				case <-stop:
					return
				}
			}
		}()
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for range children {
		select {
		case r := <-results:
			if !r.printed {
				tb.Fatalf("netnstest: child in %s exited before printing %q:\n%s", r.c.NS, substr, r.c.Output())
			}
		case <-timer.C:
			var out strings.Builder
			for _, c := range children {
				fmt.Fprintf(&out, "child in %s:\n%s\n", c.NS, c.Output())
			}
			tb.Fatalf("netnstest: not every child printed %q in time:\n%s", substr, out.String())
		}
	}
}

// StopAll closes every child's stdin at once, then waits for each to exit
// and fails tb for each child that failed.
func StopAll(tb testing.TB, children ...*Child) {
	tb.Helper()
	for _, c := range children {
		_ = c.stdin.Close()
	}
	for _, c := range children {
		for range c.lines { // drain, so the child never blocks on output
		}
		if err := c.cmd.Wait(); err != nil {
			tb.Errorf("netnstest: child in %s: %v:\n%s", c.NS, err, c.Output())
		}
	}
}

// WaitParent blocks a child started by StartChild until its parent calls
// StopAll, or ends.
func WaitParent() {
	_, _ = io.Copy(io.Discard, os.Stdin)
}
