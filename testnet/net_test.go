package testnet_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/testnet"
)

// eventually polls cond until it holds, failing t at the deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func TestConvergedDetectsDifference(t *testing.T) {
	ctx := testContext(t)
	n := newNet(t, testnet.Options{Nodes: 4, InMemory: true})
	if ok, diff := n.Converged(ctx); !ok {
		t.Fatalf("a fresh net is not converged: %s", diff)
	}
	if err := n.Partition(ctx, []int{0, 1}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Node(0).Put(ctx, testnet.Namespace, "only-left", []byte(`"x"`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 1 to get the write", func() bool {
		_, err := n.Node(1).Get(testnet.Namespace, "only-left")
		return err == nil
	})
	ok, diff := n.Converged(ctx)
	if ok || !strings.Contains(diff, "digests differ") || !strings.Contains(diff, "node 2 lacks testnet/only-left") {
		t.Fatalf("Converged = %v, %q with the write on one side only; want false, differing digests and the missing record", ok, diff)
	}
	// The right side never hears of it while the partition lasts.
	if _, err := n.Node(2).Get(testnet.Namespace, "only-left"); err == nil {
		t.Fatal("the write crossed the partition")
	}
	if err := n.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, diff := n.Converged(ctx); !ok {
		t.Fatalf("not converged after heal: %s", diff)
	}
	if _, err := n.Node(3).Get(testnet.Namespace, "only-left"); err != nil {
		t.Errorf("node 3 after heal: %v", err)
	}
}

func TestConvergedComparesContentNotOnlyDigests(t *testing.T) {
	ctx := testContext(t)
	n := newNet(t, testnet.Options{Nodes: 2, InMemory: true})
	if err := n.Partition(ctx, []int{0}, []int{1}); err != nil {
		t.Fatal(err)
	}
	// The same key written on both sides: equal key sets, different
	// versions and values.
	for i := range 2 {
		if _, err := n.Node(i).Put(ctx, testnet.Namespace, "k", []byte(`"side"`)); err != nil {
			t.Fatal(err)
		}
	}
	ok, diff := n.Converged(ctx)
	if ok || diff == "" {
		t.Fatalf("Converged = %v, %q with different versions of one key", ok, diff)
	}
	if err := n.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	a, errA := n.Node(0).Get(testnet.Namespace, "k")
	b, errB := n.Node(1).Get(testnet.Namespace, "k")
	if errA != nil || errB != nil || a.Version != b.Version {
		t.Errorf("after heal node 0 has %v (%v), node 1 has %v (%v)", a.Version, errA, b.Version, errB)
	}
}

func TestWaitConvergedTimesOutWithDiff(t *testing.T) {
	ctx := testContext(t)
	n := newNet(t, testnet.Options{Nodes: 2, InMemory: true})
	if err := n.Partition(ctx, []int{0}, []int{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Node(0).Put(ctx, testnet.Namespace, "k", []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := n.WaitConverged(short)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "node 1") {
		t.Errorf("WaitConverged across a partition: %v; want a deadline error naming the lagging node", err)
	}
}

func TestRestartKeepsIdentityAndData(t *testing.T) {
	ctx := testContext(t)
	n := newNet(t, testnet.Options{Nodes: 3})
	id := n.ID(2)
	if _, err := n.Node(2).Put(ctx, testnet.Namespace, "mine", []byte(`true`)); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(2); err != nil {
		t.Fatal(err)
	}
	if n.Node(2) != nil {
		t.Fatal("Node returns a stopped node")
	}
	if err := n.Stop(2); !errors.Is(err, testnet.ErrStopped) {
		t.Errorf("second Stop: %v, want ErrStopped", err)
	}
	if _, err := n.Node(0).Put(ctx, testnet.Namespace, "while-down", []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(ctx, 2); !errors.Is(err, testnet.ErrRunning) {
		t.Errorf("Restart of a running node: %v, want ErrRunning", err)
	}
	if got := n.Node(2).ID(); got != id {
		t.Errorf("restarted as %s, want %s", got, id)
	}
	if _, err := n.Node(2).Get(testnet.Namespace, "mine"); err != nil {
		t.Errorf("restarted node lost its own write: %v", err)
	}
	if _, err := n.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestInMemoryNodesCannotRestart(t *testing.T) {
	n := newNet(t, testnet.Options{Nodes: 2, InMemory: true})
	if err := n.Stop(1); err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(testContext(t), 1); !errors.Is(err, testnet.ErrInMemory) {
		t.Errorf("Restart: %v, want ErrInMemory", err)
	}
}

func TestSeedFixesIdentities(t *testing.T) {
	a := newNet(t, testnet.Options{Nodes: 2, Seed: 7, InMemory: true})
	b := newNet(t, testnet.Options{Nodes: 2, Seed: 7, InMemory: true})
	c := newNet(t, testnet.Options{Nodes: 2, Seed: 8, InMemory: true})
	for i := range 2 {
		if a.ID(i) != b.ID(i) {
			t.Errorf("node %d: seed 7 gave %s and %s", i, a.ID(i), b.ID(i))
		}
		if a.ID(i) == c.ID(i) {
			t.Errorf("node %d: seeds 7 and 8 both gave %s", i, a.ID(i))
		}
	}
	if a.ID(0) == a.ID(1) {
		t.Error("two nodes share an identity")
	}
}

func TestLatencyDelaysConvergence(t *testing.T) {
	const latency = 25 * time.Millisecond
	n := newNet(t, testnet.Options{Nodes: 3, InMemory: true, Latency: latency})
	r, err := testnet.Steady(testContext(t), n, testnet.Params{Writes: 10, ValueSize: 16, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Converged || r.ConvergeTime < latency {
		t.Errorf("converged %v in %s over %s links; want at least the link latency", r.Converged, r.ConvergeTime, latency)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	ctx := testContext(t)
	for _, opts := range []testnet.Options{
		{Nodes: -1},
		{Transport: "carrier-pigeon"},
		{Transport: testnet.TCP, Latency: time.Millisecond},
		{DropRate: 1.5},
	} {
		if n, err := testnet.New(ctx, opts); err == nil {
			n.Close()
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
	if _, err := testnet.Run(ctx, "nope", testnet.Options{}, testnet.Params{}); !errors.Is(err, testnet.ErrUnknownScenario) {
		t.Errorf("Run of an unknown scenario: %v", err)
	}
}
