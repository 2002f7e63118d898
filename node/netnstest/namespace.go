package netnstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// seq numbers the namespaces of this process.
var seq atomic.Int64

// Require skips tb unless the process may create network namespaces: it
// runs as root and iproute2's ip is installed.
func Require(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("netnstest: needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		tb.Skip("netnstest: needs iproute2's ip to create network namespaces")
	}
}

// NewNamespace creates an empty network namespace with lo up and returns its
// name, which is unique to this process and starts with "netnstest-". The
// namespace is deleted when tb ends.
func NewNamespace(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("netnstest-%d-%d", os.Getpid(), seq.Add(1))
	ip(tb, "netns", "add", name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tb.Errorf("netnstest: ip netns del %s: %v: %s", name, err, out)
		}
	})
	ip(tb, "-n", name, "link", "set", "lo", "up")
	return name
}

// EnableLoopbackMulticast lets processes in ns multicast to one another over
// lo: lo gets the MULTICAST flag and the route for 224.0.0.0/4.
func EnableLoopbackMulticast(tb testing.TB, ns string) {
	tb.Helper()
	ip(tb, "-n", ns, "link", "set", "lo", "multicast", "on")
	ip(tb, "-n", ns, "route", "add", "224.0.0.0/4", "dev", "lo")
}

// Command returns the command that runs the program name with args inside
// ns, as `ip netns exec` does; ip execs the program, so the command's process
// is the program itself. Like exec.CommandContext, it kills the process when
// ctx is done.
func Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// ip runs iproute2's ip with args and fails tb on error.
func ip(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("netnstest: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// namespaceID names the calling process's network namespace.
func namespaceID() (string, error) {
	return os.Readlink("/proc/self/ns/net")
}
