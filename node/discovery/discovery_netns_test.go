package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/netnstest"
)

// Fast timings for tests; the defaults would make every test last seconds.
const (
	testInterval     = 100 * time.Millisecond
	testQueryTimeout = 200 * time.Millisecond
	testDeadline     = 20 * time.Second
)

// startService starts a Service on the namespace's lo and closes it when tb
// ends.
func startService(tb testing.TB, id peer.ID, hint string, port int, found PeerFunc) *Service {
	tb.Helper()
	addrs := mustAddrs(tb, "/ip4/0.0.0.0/tcp/"+strconv.Itoa(port))
	s, err := New(Config{
		Self:         id,
		Hint:         hint,
		Addrs:        func() []ma.Multiaddr { return addrs },
		Interfaces:   []string{"lo"},
		Interval:     testInterval,
		QueryTimeout: testQueryTimeout,
		Logger:       discardLogger(),
	}, found)
	if err != nil {
		tb.Fatalf("new: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("start: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(testDeadline)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// inLoopbackNetns runs body inside a fresh namespace whose lo carries
// multicast, by rerunning the test there.
func inLoopbackNetns(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	if netnstest.IsChild(t) {
		netnstest.RequireIsolated(t)
		body(t)
		return
	}
	netnstest.Require(t)
	ns := netnstest.NewNamespace(t)
	netnstest.EnableLoopbackMulticast(t, ns)
	netnstest.RunChild(t, ns)
}

func TestTwoServicesFindEachOther(t *testing.T) {
	inLoopbackNetns(t, func(t *testing.T) {
		baseline := runtime.NumGoroutine()
		idA, idB := testPeerID(t, 1), testPeerID(t, 2)
		var recA, recB recorder
		a := startService(t, idA, "hint-1", 4001, recA.found)
		b := startService(t, idB, "hint-1", 4002, recB.found)

		waitFor(t, "A and B to find each other", func() bool {
			return slices.Contains(recA.ids(), idB) && slices.Contains(recB.ids(), idA)
		})
		if got, want := recA.addrsOf(idB), []string{"/ip4/127.0.0.1/tcp/4002"}; !slices.Equal(got, want) {
			t.Errorf("A got B at %v, want %v", got, want)
		}
		if got, want := recB.addrsOf(idA), []string{"/ip4/127.0.0.1/tcp/4001"}; !slices.Equal(got, want) {
			t.Errorf("B got A at %v, want %v", got, want)
		}
		if slices.Contains(recA.ids(), idA) || slices.Contains(recB.ids(), idB) {
			t.Errorf("a service reported itself: A saw %v, B saw %v", recA.ids(), recB.ids())
		}
		if st := a.Stats(); !slices.Equal(st.Interfaces, []string{"lo"}) || st.Rounds == 0 || st.Reported == 0 || st.Ignored() != 0 {
			t.Errorf("A stats = %+v", st)
		}

		// Periodic browsing offers a known peer again, so a lost connection
		// is redialled.
		n := len(recA.calls)
		waitFor(t, "A to be offered B again", func() bool {
			recA.mu.Lock()
			defer recA.mu.Unlock()
			return len(recA.calls) > n
		})

		if err := a.Start(context.Background()); !errors.Is(err, ErrStarted) {
			t.Errorf("second Start = %v, want ErrStarted", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("close A: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close B: %v", err)
		}
		if err := a.Start(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Start after Close = %v, want ErrClosed", err)
		}
		calls := len(recA.calls)
		waitFor(t, "goroutines to end after Close", func() bool {
			return runtime.NumGoroutine() <= baseline
		})
		if len(recA.calls) != calls {
			t.Errorf("PeerFunc called after Close")
		}
	})
}

func TestOtherGroupIsNeverReported(t *testing.T) {
	inLoopbackNetns(t, func(t *testing.T) {
		idA, idB, idC := testPeerID(t, 1), testPeerID(t, 2), testPeerID(t, 3)
		var recA, recB, recC recorder
		a := startService(t, idA, "group-one", 4001, recA.found)
		b := startService(t, idB, "group-one", 4002, recB.found)
		c := startService(t, idC, "group-two", 4003, recC.found)

		// C must have heard A and B, and A and B must have heard C, so that
		// "never reported" means "heard and filtered", not "not heard yet".
		waitFor(t, "same-group peers found and the other group heard", func() bool {
			if slices.Contains(recA.ids(), idC) || slices.Contains(recB.ids(), idC) || len(recC.ids()) > 0 {
				t.Fatalf("other group reported: A saw %v, B saw %v, C saw %v", recA.ids(), recB.ids(), recC.ids())
			}
			return slices.Contains(recA.ids(), idB) && slices.Contains(recB.ids(), idA) &&
				a.Stats().IgnoredOtherGroup > 0 && b.Stats().IgnoredOtherGroup > 0 &&
				c.Stats().IgnoredOtherGroup >= 2
		})
		for _, s := range []*Service{a, b, c} {
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		if got := recA.ids(); !slices.Equal(got, []peer.ID{idB}) {
			t.Errorf("A was offered %v, want only B", got)
		}
		if got := recB.ids(); !slices.Equal(got, []peer.ID{idA}) {
			t.Errorf("B was offered %v, want only A", got)
		}
		if got := recC.ids(); len(got) != 0 {
			t.Errorf("C, of another group, was offered %v", got)
		}
		if st := c.Stats(); st.Reported != 0 || st.IgnoredMalformed != 0 {
			t.Errorf("C stats = %+v", st)
		}
	})
}

// Env of a LAN child in TestLANAcrossNamespaces.
const (
	lanEnvIndex   = "SYNCNODE_TEST_LAN_INDEX"
	lanEnvHint    = "SYNCNODE_TEST_LAN_HINT"
	lanEnvExpect  = "SYNCNODE_TEST_LAN_EXPECT"
	lanEnvForeign = "SYNCNODE_TEST_LAN_FOREIGN"
)

// TestLANAcrossNamespaces runs one process per host on a bridged LAN, with
// interfaces chosen automatically: hosts 0 and 1 share a group, host 2 is of
// another group. Each host checks that it finds exactly its group's peers, at
// their LAN address, and hears the others without reporting them.
func TestLANAcrossNamespaces(t *testing.T) {
	if netnstest.IsChild(t) {
		netnstest.RequireIsolated(t)
		lanChild(t)
		return
	}
	netnstest.Require(t)
	hosts := []struct {
		hint    string
		expect  string // indexes of the peers to find
		foreign int    // how many hosts of another group it hears
	}{
		{"group-one", "1", 1},
		{"group-one", "0", 1},
		{"group-two", "", 2},
	}
	lan := netnstest.NewLAN(t, len(hosts))
	procs := make([]*netnstest.Child, len(hosts))
	for i, h := range hosts {
		procs[i] = netnstest.StartChild(t, lan[i].NS,
			lanEnvIndex+"="+strconv.Itoa(i), lanEnvHint+"="+h.hint,
			lanEnvExpect+"="+h.expect, lanEnvForeign+"="+strconv.Itoa(h.foreign))
	}
	netnstest.WaitLines(t, "LAN-READY", time.Now().Add(testDeadline), procs...)
	netnstest.StopAll(t, procs...)
}

// lanChild is one host of TestLANAcrossNamespaces: it browses until it has
// found every expected peer at its LAN address and ignored the expected
// number of foreign entries, says LAN-READY, and keeps advertising until its
// parent closes stdin. Reporting any unexpected peer fails it.
func lanChild(t *testing.T) {
	index, err := strconv.Atoi(os.Getenv(lanEnvIndex))
	if err != nil {
		t.Fatalf("%s: %v", lanEnvIndex, err)
	}
	var expect []peer.ID
	wantAddr := map[peer.ID]string{}
	for _, s := range strings.Split(os.Getenv(lanEnvExpect), ",") {
		if s == "" {
			continue
		}
		j, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: %v", lanEnvExpect, err)
		}
		id := testPeerID(t, uint64(j))
		expect = append(expect, id)
		wantAddr[id] = fmt.Sprintf("/ip4/10.77.0.%d/tcp/%d", j+1, 4000+j)
	}
	foreign, err := strconv.ParseUint(os.Getenv(lanEnvForeign), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", lanEnvForeign, err)
	}

	addrs := mustAddrs(t, fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", 4000+index), "/ip4/127.0.0.1/tcp/9")
	var rec recorder
	s, err := New(Config{
		Self:         testPeerID(t, uint64(index)),
		Hint:         os.Getenv(lanEnvHint),
		Addrs:        func() []ma.Multiaddr { return addrs },
		Interval:     testInterval,
		QueryTimeout: testQueryTimeout,
		Logger:       discardLogger(),
	}, rec.found)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	if got := s.Stats().Interfaces; !slices.Equal(got, []string{netnstest.Iface}) {
		t.Errorf("picked interfaces %v, want [%s]", got, netnstest.Iface)
	}
	waitFor(t, "expected peers and foreign entries", func() bool {
		for _, id := range rec.ids() {
			if !slices.Contains(expect, id) {
				t.Fatalf("reported %s, which is not of this group", id)
			}
		}
		for _, id := range expect {
			if !slices.Contains(rec.ids(), id) {
				return false
			}
		}
		return s.Stats().IgnoredOtherGroup >= foreign
	})
	fmt.Println("LAN-READY")
	netnstest.WaitParent()
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if got := rec.ids(); len(got) != len(expect) {
		t.Errorf("found %v, want exactly %v", got, expect)
	}
	for id, want := range wantAddr {
		if got := rec.addrsOf(id); !slices.Equal(got, []string{want}) {
			t.Errorf("peer %s at %v, want only its LAN address %s", id, got, want)
		}
	}
}
