package netnstest

import (
	"fmt"
	"testing"
)

// Iface is the name of every member's interface on a LAN. It is
// deliberately not eth0, so that a log line can never be mistaken for the
// machine's real interface.
const Iface = "lan0"

// Member is one host on a LAN built by NewLAN.
type Member struct {
	// NS is the member's namespace.
	NS string
	// Iface is its interface on the LAN, always the constant Iface.
	Iface string
	// IP is its IPv4 address on Iface, in 10.77.0.0/24.
	IP string
}

// NewLAN builds a LAN of n hosts, 1 to 250: a bridge in a hub namespace and
// n member namespaces, each joined to it by a veth pair, with addresses
// 10.77.0.1, 10.77.0.2, ... on a /24. The bridge does no multicast
// snooping, so every member hears every other's multicast.
//
// A member has no default route, so it also gets a route for 224.0.0.0/4
// over its LAN interface: a multicast sender or receiver that leaves the
// interface to the kernel, as hashicorp/mdns's client does, then uses the
// LAN. Nothing is created in the caller's namespace, and all of it is
// deleted when tb ends.
func NewLAN(tb testing.TB, n int) []Member {
	tb.Helper()
	if n < 1 || n > 250 {
		tb.Fatalf("netnstest: NewLAN of %d hosts, want 1 to 250", n)
	}
	hub := NewNamespace(tb)
	ip(tb, "-n", hub, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	ip(tb, "-n", hub, "link", "set", "br0", "up")
	members := make([]Member, n)
	for i := range members {
		m := Member{NS: NewNamespace(tb), Iface: Iface, IP: fmt.Sprintf("10.77.0.%d", i+1)}
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
