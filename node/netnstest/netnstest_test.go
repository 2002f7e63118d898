package netnstest_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/netnstest"
)

// A multicast group and port of the tests' own, far from mDNS's.
const (
	testGroup = "239.255.77.77"
	testPort  = 17777
	// roleEnv tells a child of TestLANCarriesMulticast what to do.
	roleEnv = "NETNSTEST_ROLE"
)

// output runs a command in the caller's namespace and returns its stdout.
func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// namespaces lists the named network namespaces.
func namespaces(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(output(t, "ip", "netns", "list"), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// callerNetwork describes the caller's own links and multicast routes, which
// nothing in netnstest may change.
func callerNetwork(t *testing.T) string {
	t.Helper()
	var links []string
	for _, line := range strings.Split(output(t, "ip", "-o", "link", "show"), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			links = append(links, f[1])
		}
	}
	return strings.Join(links, " ") + " | " + output(t, "ip", "route", "show", "224.0.0.0/4")
}

func TestNamespaceIsRemovedAtCleanup(t *testing.T) {
	netnstest.Require(t)
	before := callerNetwork(t)
	var ns string
	t.Run("create", func(t *testing.T) {
		ns = netnstest.NewNamespace(t)
		if !slices.Contains(namespaces(t), ns) {
			t.Fatalf("namespace %s not in ip netns list", ns)
		}
		if lo := output(t, "ip", "-n", ns, "-o", "link", "show", "lo"); !strings.Contains(lo, ",UP") {
			t.Errorf("lo in %s is not up: %s", ns, lo)
		}
		netnstest.EnableLoopbackMulticast(t, ns)
		if lo := output(t, "ip", "-n", ns, "-o", "link", "show", "lo"); !strings.Contains(lo, "MULTICAST") {
			t.Errorf("lo in %s has no MULTICAST flag: %s", ns, lo)
		}
	})
	if slices.Contains(namespaces(t), ns) {
		t.Errorf("namespace %s outlived its test", ns)
	}
	if after := callerNetwork(t); after != before {
		t.Errorf("caller's network changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestChildRunsIsolated(t *testing.T) {
	if netnstest.IsChild(t) {
		netnstest.RequireIsolated(t)
		ifaces, err := net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		if len(ifaces) != 1 || ifaces[0].Name != "lo" {
			t.Fatalf("a fresh namespace has interfaces %v, want only lo", ifaces)
		}
		return
	}
	netnstest.Require(t)
	netnstest.RunChild(t, netnstest.NewNamespace(t))
}

// TestLANCarriesMulticast sends multicast from the first host of a LAN and
// checks that the two others receive it, from the first host's address,
// while the caller's namespace stays as it was.
func TestLANCarriesMulticast(t *testing.T) {
	if netnstest.IsChild(t) {
		netnstest.RequireIsolated(t)
		switch os.Getenv(roleEnv) {
		case "send":
			multicastSender(t)
		case "receive":
			multicastReceiver(t)
		default:
			t.Fatalf("%s=%q", roleEnv, os.Getenv(roleEnv))
		}
		return
	}
	netnstest.Require(t)
	before := callerNetwork(t)
	lan := netnstest.NewLAN(t, 3)
	for i, m := range lan {
		if want := fmt.Sprintf("10.77.0.%d", i+1); m.IP != want || m.Iface != netnstest.Iface {
			t.Fatalf("member %d = %+v, want IP %s on %s", i, m, want, netnstest.Iface)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	receivers := []*netnstest.Child{
		netnstest.StartChild(t, lan[1].NS, roleEnv+"=receive"),
		netnstest.StartChild(t, lan[2].NS, roleEnv+"=receive"),
	}
	netnstest.WaitLines(t, "RECEIVER-READY", deadline, receivers...)
	sender := netnstest.StartChild(t, lan[0].NS, roleEnv+"=send")
	netnstest.WaitLines(t, "GOT "+lan[0].IP, deadline, receivers...)
	netnstest.StopAll(t, append(receivers, sender)...)
	if after := callerNetwork(t); after != before {
		t.Errorf("caller's network changed:\nbefore %s\nafter  %s", before, after)
	}
}

// multicastReceiver joins the test group on the LAN interface, says
// RECEIVER-READY, and says GOT with the source of the first datagram.
func multicastReceiver(t *testing.T) {
	ifi, err := net.InterfaceByName(netnstest.Iface)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: net.ParseIP(testGroup), Port: testPort})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer conn.Close()
	t.Log("RECEIVER-READY")
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if string(buf[:n]) != "netnstest" {
		t.Fatalf("received %q", buf[:n])
	}
	t.Logf("GOT %s", from.IP)
	netnstest.WaitParent()
}

// multicastSender sends to the test group every few milliseconds until its
// parent stops it, at most a thousand times.
func multicastSender(t *testing.T) {
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(testGroup), Port: testPort})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	stopped := make(chan struct{})
	go func() {
		netnstest.WaitParent()
		close(stopped)
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range 1000 {
		if _, err := conn.Write([]byte("netnstest")); err != nil {
			t.Fatalf("send: %v", err)
		}
		select {
		case <-stopped:
			return
		case <-tick.C:
		}
	}
}
