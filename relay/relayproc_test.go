package relay_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/invite"
	"github.com/syncnode/syncnode/relay"
)

// The fan-in benchmark runs its relay in a child process of the test
// binary, as a VPS would run it, so that the relay's resident memory can be
// read on its own. These variables configure the child.
const (
	envRelayDir    = "RELAY_BENCH_DIR"
	envRelayJoin   = "RELAY_BENCH_JOIN"
	envRelayTokens = "RELAY_BENCH_TOKENS"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envRelayDir); dir != "" {
		if err := runRelayChild(dir); err != nil {
			fmt.Fprintf(os.Stderr, "relay child: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runRelayChild starts a relay in dir, pairs the number of devices the
// parent asked for, prints its address and their tokens, and runs until its
// standard input closes.
func runRelayChild(dir string) error {
	n, err := strconv.Atoi(os.Getenv(envRelayTokens))
	if err != nil {
		return fmt.Errorf("%s: %w", envRelayTokens, err)
	}
	r, err := relay.Start(relay.Options{
		DataDir:        dir,
		Join:           os.Getenv(envRelayJoin),
		Listen:         []string{"/ip4/127.0.0.1/tcp/0"},
		API:            "127.0.0.1:0",
		ScoreWhitelist: loopback,
		Logger:         quiet(),
	})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Printf("ADDR %s\n", r.Addrs()[0])
	for i := range n {
		tok, err := r.Registry().Create(fmt.Sprintf("device-%02d", i))
		if err != nil {
			return err
		}
		fmt.Printf("TOKEN %s\n", tok)
	}
	fmt.Println("READY")
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// relayProc is a relay running in a child process.
type relayProc struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	addr   string
	tokens []string
}

// startRelayProc runs a relay of the group in a child process, with a
// durable data dir, and pairs devices tokens for it.
func startRelayProc(tb testing.TB, secret group.Secret, devices int) *relayProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envRelayDir+"="+filepath.Join(tb.TempDir(), "relay"),
		envRelayJoin+"="+invite.EncodeRelay(secret.Network()),
		envRelayTokens+"="+strconv.Itoa(devices))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &relayProc{cmd: cmd, stdin: stdin}
	tb.Cleanup(p.stop)
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "ADDR "); ok {
				p.addr = v
			} else if v, ok := strings.CutPrefix(line, "TOKEN "); ok {
				p.tokens = append(p.tokens, v)
			} else if line == "READY" {
				ready <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("exited before it was ready: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		if err != nil || p.addr == "" || len(p.tokens) != devices {
			tb.Fatalf("relay child: %v; address %q and %d tokens, want %d", err, p.addr, len(p.tokens), devices)
		}
	case <-time.After(benchTimeout):
		tb.Fatalf("relay child not ready after %v", benchTimeout)
	}
	return p
}

// memory returns the child's resident set and its peak so far.
func (p *relayProc) memory(tb testing.TB) (rss, peak uint64) {
	tb.Helper()
	st := procStatus(tb, fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	return st["VmRSS"], st["VmHWM"]
}

// stop closes the child's standard input and waits for it to exit, killing
// it if it has not after relayStopTimeout.
func (p *relayProc) stop() {
	if p.stdin.Close() != nil {
		return // stopped already
	}
	exited := make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(relayStopTimeout):
		p.cmd.Process.Kill()
		<-exited
	}
}

// relayStopTimeout bounds a relay child's clean exit.
const relayStopTimeout = 30 * time.Second
