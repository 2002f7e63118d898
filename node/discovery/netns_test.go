package discovery

// A harness for tests that need real multicast, which may only ever be sent
// inside network namespaces the test creates itself. The test builds the
// namespaces with iproute2, re-executes its own test binary inside one with
// `ip netns exec`, and removes everything in tb.Cleanup, even on failure.
//
// It uses only the standard library and nothing else from this package, so it
// can move to testnet unchanged apart from the package clause.
//
// A test using it has two halves, chosen by netnsChild:
//
//	func TestX(t *testing.T) {
//		if netnsChild(t) {
//			requireIsolated(t) // the real body, run inside the namespace
//			...
//			return
//		}
//		requireNetns(t)
//		ns := newNetns(t)
//		enableLoopbackMulticast(t, ns)
//		runInNetns(t, ns)
//	}

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
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// netnsChildEnv holds the test name in a re-executed child.
	netnsChildEnv = "SYNCNODE_NETNS_CHILD"
	// netnsParentEnv holds the parent's network namespace identity, so
	// that the child can prove it runs somewhere else.
	netnsParentEnv = "SYNCNODE_NETNS_PARENT"
	// netnsChildTimeout bounds a child's run.
	netnsChildTimeout = 2 * time.Minute
)

var netnsSeq atomic.Int64

// netnsChild reports whether this process is the re-executed child of
// runInNetns or startInNetns for tb's test.
func netnsChild(tb testing.TB) bool {
	return os.Getenv(netnsChildEnv) == tb.Name()
}

// requireNetns skips tb unless the process may create network namespaces:
// it runs as root and iproute2's ip is installed.
func requireNetns(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		tb.Skip("needs iproute2's ip to create network namespaces")
	}
}

// requireIsolated fails tb at once unless this process runs in a network
// namespace other than its parent's. It is the guard that keeps multicast
// off the machine's real interfaces.
func requireIsolated(tb testing.TB) {
	tb.Helper()
	parent := os.Getenv(netnsParentEnv)
	own, err := netnsID()
	if err != nil {
		tb.Fatalf("read own network namespace: %v", err)
	}
	if parent == "" || own == parent {
		tb.Fatalf("refusing to multicast: not in a namespace of the test's own (own %q, parent %q)", own, parent)
	}
}

// netnsID names the calling process's network namespace.
func netnsID() (string, error) {
	return os.Readlink("/proc/self/ns/net")
}

// ip runs iproute2's ip with args and fails tb on error.
func ip(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newNetns creates an empty network namespace with lo up and returns its
// name, unique to this process. It is deleted when tb ends.
func newNetns(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("sn%d-%d", os.Getpid(), netnsSeq.Add(1))
	ip(tb, "netns", "add", name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tb.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ip(tb, "-n", name, "link", "set", "lo", "up")
	return name
}

// enableLoopbackMulticast lets processes in ns multicast to one another over
// lo: lo gets the MULTICAST flag and the route for 224.0.0.0/4.
func enableLoopbackMulticast(tb testing.TB, ns string) {
	tb.Helper()
	ip(tb, "-n", ns, "link", "set", "lo", "multicast", "on")
	ip(tb, "-n", ns, "route", "add", "224.0.0.0/4", "dev", "lo")
}

// lanMember is one host on a test LAN.
type lanMember struct {
	// NS is the member's namespace.
	NS string
	// Iface is its interface on the LAN.
	Iface string
	// IP is its IPv4 address on Iface.
	IP string
}

// lanIface is each member's interface name. It is deliberately not eth0,
// so a log line can never be mistaken for the machine's real interface.
const lanIface = "lan0"

// newLAN builds a LAN of n hosts: a bridge in a hub namespace and n member
// namespaces, each joined to it by a veth pair, with addresses 10.77.0.1,
// 10.77.0.2, ... on a /24. A member has no default route, so it also gets a
// route for 224.0.0.0/4 over its LAN interface: hashicorp/mdns's client
// joins the mDNS group on the interface the kernel routes it to. Nothing is
// created in the caller's namespace; all of it is deleted when tb ends.
func newLAN(tb testing.TB, n int) []lanMember {
	tb.Helper()
	if n < 1 || n > 250 {
		tb.Fatalf("newLAN: %d hosts, want 1 to 250", n)
	}
	hub := newNetns(tb)
	ip(tb, "-n", hub, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	ip(tb, "-n", hub, "link", "set", "br0", "up")
	members := make([]lanMember, n)
	for i := range members {
		m := lanMember{NS: newNetns(tb), Iface: lanIface, IP: fmt.Sprintf("10.77.0.%d", i+1)}
		port := fmt.Sprintf("p%d", i)
		ip(tb, "-n", hub, "link", "add", port, "type", "veth", "peer", "name", m.Iface, "netns", m.NS)
		ip(tb, "-n", hub, "link", "set", port, "master", "br0")
		ip(tb, "-n", hub, "link", "set", port, "up")
		ip(tb, "-n", m.NS, "addr", "add", m.IP+"/24", "dev", m.Iface)
		ip(tb, "-n", m.NS, "link", "set", m.Iface, "up")
		ip(tb, "-n", m.NS, "route", "add", "224.0.0.0/4", "dev", m.Iface)
		members[i] = m
	}
	return members
}

// childCommand builds the command that reruns tb's test inside ns with env
// added to this process's environment.
func childCommand(tb testing.TB, ctx context.Context, ns string, env ...string) *exec.Cmd {
	tb.Helper()
	parent, err := netnsID()
	if err != nil {
		tb.Fatalf("read own network namespace: %v", err)
	}
	parts := strings.Split(tb.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0],
		"-test.run="+strings.Join(parts, "/"), "-test.v", "-test.count=1",
		"-test.timeout="+netnsChildTimeout.String())
	// A race-enabled binary sleeps a second at exit unless told not to.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), netnsChildEnv+"="+tb.Name(), netnsParentEnv+"="+parent, "GORACE="+gorace)
	cmd.Env = append(cmd.Env, env...)
	// The child is the leader of its own process group, so that a kill
	// reaches the test binary under ip netns exec too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// runInNetns reruns tb's test inside ns, waits for it, logs its output and
// fails tb if it failed or did not run the test.
func runInNetns(tb testing.TB, ns string, env ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netnsChildTimeout+10*time.Second)
	defer cancel()
	out, err := childCommand(tb, ctx, ns, env...).CombinedOutput()
	tb.Logf("child in %s:\n%s", ns, out)
	if err != nil {
		tb.Fatalf("child in %s: %v", ns, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+tb.Name()) {
		tb.Fatalf("child in %s did not run %s", ns, tb.Name())
	}
}

// netnsProc is a child started by startInNetns.
type netnsProc struct {
	NS    string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string

	mu  sync.Mutex
	out []string
}

// startInNetns starts tb's test inside ns without waiting for it. The child
// runs until its stdin closes (see stopAll). Its output arrives line by line
// on Lines. tb's cleanup kills the child by PID if it is still running.
func startInNetns(tb testing.TB, ns string, env ...string) *netnsProc {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netnsChildTimeout+10*time.Second)
	cmd := childCommand(tb, ctx, ns, env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		tb.Fatalf("child stdin: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		tb.Fatalf("child stdout: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start child in %s: %v", ns, err)
	}
	p := &netnsProc{NS: ns, cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines; Output still has them
			}
		}
	}()
	tb.Cleanup(func() {
		cancel() // kills the child's process group if it still runs
		_ = cmd.Wait()
	})
	return p
}

// waitLines waits until every child in procs has printed a line containing
// substr. It fails tb as soon as one child exits without it, or when the
// deadline passes.
func waitLines(tb testing.TB, substr string, deadline time.Time, procs ...*netnsProc) {
	tb.Helper()
	type result struct {
		p       *netnsProc
		printed bool
	}
	results := make(chan result, len(procs))
	stop := make(chan struct{})
	defer close(stop)
	for _, p := range procs {
		go func() {
			for {
				select {
				case line, ok := <-p.lines:
					if !ok || strings.Contains(line, substr) {
						results <- result{p, ok}
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
	for range procs {
		select {
		case r := <-results:
			if !r.printed {
				tb.Fatalf("child in %s exited before printing %q:\n%s", r.p.NS, substr, r.p.Output())
			}
		case <-timer.C:
			var out strings.Builder
			for _, p := range procs {
				fmt.Fprintf(&out, "child in %s:\n%s\n", p.NS, p.Output())
			}
			tb.Fatalf("not every child printed %q in time:\n%s", substr, out.String())
		}
	}
}

// stopAll closes every child's stdin at once, then waits for each to exit
// and fails tb for each child that failed.
func stopAll(tb testing.TB, procs ...*netnsProc) {
	tb.Helper()
	for _, p := range procs {
		_ = p.stdin.Close()
	}
	for _, p := range procs {
		for range p.lines { // drain, so the child never blocks on output
		}
		if err := p.cmd.Wait(); err != nil {
			tb.Errorf("child in %s: %v:\n%s", p.NS, err, p.Output())
		}
	}
}

// Output is everything the child printed so far.
func (p *netnsProc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "\n")
}

// waitStdinClosed blocks a child until its parent closes its stdin.
func waitStdinClosed() {
	_, _ = io.Copy(io.Discard, os.Stdin)
}
