package netnstest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/netnstest"
)

// Environment of TestStarSpokesReachOnlyTheHub's children.
const (
	// starHubAddr is where the hub listens and every spoke must connect.
	starHubAddr = "NETNSTEST_STAR_HUB"
	// starOtherAddr is another spoke's address, which must be unreachable.
	starOtherAddr = "NETNSTEST_STAR_OTHER"
	// starPort is the hub's test port.
	starPort = 17778
)

// TestStarSpokesReachOnlyTheHub builds a star of two spokes and checks that
// each spoke connects to the hub over TCP, that neither has a route to the
// other, and that the caller's namespace stays as it was.
func TestStarSpokesReachOnlyTheHub(t *testing.T) {
	if netnstest.IsChild(t) {
		netnstest.RequireIsolated(t)
		switch os.Getenv(roleEnv) {
		case "hub":
			starHub(t)
		case "spoke":
			starSpoke(t)
		default:
			t.Fatalf("%s=%q", roleEnv, os.Getenv(roleEnv))
		}
		return
	}
	netnstest.Require(t)
	before := callerNetwork(t)
	star := netnstest.NewStar(t, 2)
	for i, s := range star.Spokes {
		if want := fmt.Sprintf("10.91.%d.", i+1); s.IP != want+"2" || s.HubIP != want+"1" {
			t.Fatalf("spoke %d = %+v, want IP %s2 and hub %s1", i, s, want, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fwd, err := netnstest.Command(ctx, star.Hub, "cat", "/proc/sys/net/ipv4/ip_forward").Output()
	if err != nil || strings.TrimSpace(string(fwd)) != "0" {
		t.Fatalf("hub ip_forward = %q (%v), want 0", fwd, err)
	}

	hub := netnstest.StartChild(t, star.Hub, roleEnv+"=hub")
	netnstest.WaitLines(t, "HUB-READY", time.Now().Add(20*time.Second), hub)
	for i, s := range star.Spokes {
		other := star.Spokes[1-i]
		netnstest.RunChild(t, s.NS, roleEnv+"=spoke",
			starHubAddr+"="+net.JoinHostPort(s.HubIP, fmt.Sprint(starPort)),
			starOtherAddr+"="+net.JoinHostPort(other.IP, fmt.Sprint(starPort)))
	}
	netnstest.StopAll(t, hub)
	if after := callerNetwork(t); after != before {
		t.Errorf("caller's network changed:\nbefore %s\nafter  %s", before, after)
	}
}

// starHub accepts connections on every hub address until its parent stops
// it.
func starHub(t *testing.T) {
	ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", starPort))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Log("HUB-READY")
	netnstest.WaitParent()
}

// starSpoke connects to the hub, and finds no route to the other spoke.
func starSpoke(t *testing.T) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", os.Getenv(starHubAddr))
	if err != nil {
		t.Fatalf("dial the hub: %v", err)
	}
	c.Close()
	c, err = d.Dial("tcp4", os.Getenv(starOtherAddr))
	if err == nil {
		c.Close()
		t.Fatalf("dialled the other spoke at %s", os.Getenv(starOtherAddr))
	}
	if !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("dial the other spoke: %v, want network unreachable", err)
	}
	t.Logf("other spoke: %v", err)
}
