package discovery

import (
	"net"
	"slices"
	"testing"
)

func TestLocalAddrs(t *testing.T) {
	ips := []net.IP{net.ParseIP("10.0.0.5").To4(), net.ParseIP("192.168.1.5").To4(), net.ParseIP("fd00::5")}
	listen := mustAddrs(t,
		"/ip4/0.0.0.0/tcp/4001",                                 // expands to both IPv4 addresses
		"/ip6/::/tcp/4001",                                      // expands to the IPv6 address
		"/ip4/10.0.0.5/udp/4001/quic-v1",                        // kept: ours
		"/ip4/10.9.9.9/tcp/4001",                                // another interface's
		"/ip4/127.0.0.1/tcp/4001",                               // loopback, not on this interface
		"/ip4/10.0.0.5/tcp/4001",                                // duplicate of an expansion
		"/dns4/example.com/tcp/4001",                            // not direct
		"/ip4/10.0.0.5/tcp/4001/p2p-circuit",                    // relayed
		"/ip4/10.0.0.5/tcp/4001/p2p/"+testPeerID(t, 1).String(), // carries a peer
		"/ip4/10.0.0.5",                                         // no transport
	)
	got := addrStrings(localAddrs(listen, ips))
	want := []string{
		"/ip4/10.0.0.5/tcp/4001",
		"/ip4/192.168.1.5/tcp/4001",
		"/ip6/fd00::5/tcp/4001",
		"/ip4/10.0.0.5/udp/4001/quic-v1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("localAddrs = %v, want %v", got, want)
	}
	if got := localAddrs(listen, nil); len(got) != 0 {
		t.Fatalf("an interface without addresses advertises %v", got)
	}
}

func TestDialable(t *testing.T) {
	tests := []struct {
		addr                 string
		loopbackOK, dialable bool
	}{
		{"/ip4/10.0.0.1/tcp/1", false, true},
		{"/ip6/fd00::1/udp/1/quic-v1", false, true},
		{"/ip4/127.0.0.1/tcp/1", false, false},
		{"/ip4/127.0.0.1/tcp/1", true, true},
		{"/ip6/::1/tcp/1", false, false},
		{"/ip4/0.0.0.0/tcp/1", true, false},
		{"/ip4/224.0.0.251/udp/5353", true, false},
		{"/ip6/fe80::1/tcp/1", false, false},
		{"/ip4/169.254.1.1/tcp/1", false, false},
		{"/dns4/example.com/tcp/1", false, false},
		{"/ip4/10.0.0.1/tcp/1/p2p-circuit", false, false},
		{"/ip4/10.0.0.1", false, false},
	}
	for _, tt := range tests {
		if got := dialable(mustAddr(t, tt.addr), tt.loopbackOK); got != tt.dialable {
			t.Errorf("dialable(%s, loopbackOK=%v) = %v, want %v", tt.addr, tt.loopbackOK, got, tt.dialable)
		}
	}
}

func TestTCPPort(t *testing.T) {
	tests := []struct {
		addrs []string
		want  int
	}{
		{[]string{"/ip4/10.0.0.1/udp/5000/quic-v1", "/ip4/10.0.0.1/tcp/4001"}, 4001},
		{[]string{"/ip4/10.0.0.1/udp/5000/quic-v1"}, 5000},
		{[]string{"/dns4/x/tcp/1"}, 0},
		{nil, 0},
	}
	for _, tt := range tests {
		if got := tcpPort(mustAddrs(t, tt.addrs...)); got != tt.want {
			t.Errorf("tcpPort(%v) = %d, want %d", tt.addrs, got, tt.want)
		}
	}
}
