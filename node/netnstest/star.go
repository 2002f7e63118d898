package netnstest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// spokeIface is a spoke's interface towards the hub. Like Iface, it is
// deliberately not eth0.
const spokeIface = "hub0"

// Spoke is one namespace of a star built by NewStar.
type Spoke struct {
	// NS is the spoke's namespace.
	NS string
	// IP is its IPv4 address, 10.91.<i+1>.2 on a /24 of its own.
	IP string
	// HubIP is the hub's address on the spoke's link, 10.91.<i+1>.1.
	HubIP string
}

// Star is a hub namespace with a point-to-point link to each spoke.
type Star struct {
	// Hub is the hub's namespace.
	Hub string
	// Spokes are the spoke namespaces, in the order of their subnets.
	Spokes []Spoke
}

// NewStar builds a hub namespace linked by a veth pair to each of n spoke
// namespaces, 1 to 250. Spoke i has the subnet 10.91.<i+1>.0/24 to itself,
// with .1 for the hub and .2 for the spoke.
//
// Spokes reach the hub and never one another: a spoke has a route to its
// own subnet only, and the hub does not forward, whatever the machine's
// own ip_forward says. This is the shape of devices that share no network
// and meet only at a server. Nothing is created in the caller's namespace,
// and all of it is deleted when tb ends.
func NewStar(tb testing.TB, n int) Star {
	tb.Helper()
	if n < 1 || n > 250 {
		tb.Fatalf("netnstest: NewStar of %d spokes, want 1 to 250", n)
	}
	star := Star{Hub: NewNamespace(tb), Spokes: make([]Spoke, n)}
	// A new namespace may inherit forwarding from the machine's
	// (net.core.devconf_inherit_init_net), so switch it off explicitly.
	writeProcSys(tb, star.Hub, "net/ipv4/ip_forward", "0")
	for i := range star.Spokes {
		s := Spoke{
			NS:    NewNamespace(tb),
			IP:    fmt.Sprintf("10.91.%d.2", i+1),
			HubIP: fmt.Sprintf("10.91.%d.1", i+1),
		}
		port := fmt.Sprintf("spoke%d", i)
		ip(tb, "-n", star.Hub, "link", "add", port, "type", "veth", "peer", "name", spokeIface, "netns", s.NS)
		ip(tb, "-n", star.Hub, "addr", "add", s.HubIP+"/24", "dev", port)
		ip(tb, "-n", star.Hub, "link", "set", port, "up")
		ip(tb, "-n", s.NS, "addr", "add", s.IP+"/24", "dev", spokeIface)
		ip(tb, "-n", s.NS, "link", "set", spokeIface, "up")
		star.Spokes[i] = s
	}
	return star
}

// writeProcSys sets the namespace's /proc/sys/<key> to value. The net part
// of /proc/sys is that of the reading process's namespace, so the write
// runs inside ns.
func writeProcSys(tb testing.TB, ns, key, value string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The values travel as arguments, never as shell text.
	out, err := Command(ctx, ns, "sh", "-c", `printf '%s\n' "$1" > "/proc/sys/$2"`, "sh", value, key).CombinedOutput()
	if err != nil {
		tb.Fatalf("netnstest: set %s to %s in %s: %v: %s", key, value, ns, err, out)
	}
}
