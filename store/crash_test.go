package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envCrashDir tells the test binary, re-executed as a child, to run
// TestHelperWriter against the store in that directory.
const envCrashDir = "STORE_CRASH_DIR"

const (
	crashClients = 16
	crashAcks    = 400 // acknowledgements the parent waits for before the kill
	crashValue   = `{"payload":"acknowledged writes must survive kill -9"}`
)

// TestHelperWriter is the child of TestDurableUnderKill: it writes from
// concurrent clients and prints "ack KEY" once each Put has returned. It
// stops by itself after a bounded number of writes or time, in case the
// parent never kills it.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("only runs as the child of TestDurableUnderKill")
	}
	opts := testOptions("writer", newManualClock(baseMS))
	opts.Dir = dir
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out sync.Mutex
	var wg sync.WaitGroup
	for c := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 * crashAcks {
				key := fmt.Sprintf("c%02d-%06d", c, i)
				if _, err := s.Put(ctx, "crash", key, []byte(crashValue)); err != nil {
					return
				}
				out.Lock()
				fmt.Printf("ack %s\n", key)
				out.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Close()
}

// TestDurableUnderKill runs TestHelperWriter in a child process, SIGKILLs it
// after crashAcks acknowledgements, and checks that the reopened store holds
// every write the child acknowledged.
func TestDurableUnderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	acked := map[string]bool{}
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		key, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked[key] = true
		if !killed && len(acked) >= crashAcks {
			// Lines already in the pipe are acknowledgements too; keep
			// reading them until it closes.
			if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		}
	}
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("child did not finish in time: %v", ctx.Err())
	}
	if !killed {
		t.Fatalf("child exited (%v) after %d acknowledgements, before the kill", waitErr, len(acked))
	}
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() || status.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v", waitErr)
	}

	opts := testOptions("writer", newManualClock(baseMS))
	opts.Dir = dir
	s := mustOpen(t, opts)
	missing := 0
	for key := range acked {
		r, err := s.Get("crash", key)
		if err != nil || string(r.Value) != crashValue || r.Deleted {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged %s: %+v, %v", key, r, err)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, len(acked))
	}
	// Whatever else reached disk is whole: seqs are contiguous and the
	// summaries match the records.
	st := s.Stats()
	if st.Vector.Get("writer") != uint64(st.Live) || st.Live < int64(len(acked)) {
		t.Fatalf("after the crash: vector %v, %d live records, %d acknowledged", st.Vector, st.Live, len(acked))
	}
	checkConsistent(t, s)
	t.Logf("%d acknowledged, %d recovered", len(acked), st.Live)
}
