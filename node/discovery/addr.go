package discovery

import (
	"net"
	"slices"
	"strconv"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// splitDirect splits a direct address, an IP followed by TCP or UDP with no
// relay or peer component, into its IP and the rest. ok is false for any
// other address.
func splitDirect(a ma.Multiaddr) (ip net.IP, rest ma.Multiaddr, ok bool) {
	first, rest := ma.SplitFirst(a)
	if first == nil || (first.Code() != ma.P_IP4 && first.Code() != ma.P_IP6) {
		return nil, nil, false
	}
	next, _ := ma.SplitFirst(rest)
	if next == nil || (next.Code() != ma.P_TCP && next.Code() != ma.P_UDP) {
		return nil, nil, false
	}
	direct := true
	ma.ForEach(rest, func(c ma.Component) bool {
		if c.Code() == ma.P_P2P || c.Code() == ma.P_CIRCUIT {
			direct = false
		}
		return direct
	})
	if !direct {
		return nil, nil, false
	}
	return net.IP(first.RawValue()), rest, true
}

// localAddrs returns the listen addresses that a peer reaches through an
// interface whose addresses are ips. A specific address is kept when its IP
// is one of ips; an unspecified one (0.0.0.0, ::) becomes one address per IP
// of its family. Anything that is not a direct address is dropped.
func localAddrs(listen []ma.Multiaddr, ips []net.IP) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range listen {
		ip, rest, ok := splitDirect(a)
		if !ok {
			continue
		}
		if !ip.IsUnspecified() {
			if slices.ContainsFunc(ips, ip.Equal) {
				out = append(out, a)
			}
			continue
		}
		v4 := ip.To4() != nil
		for _, own := range ips {
			if (own.To4() != nil) != v4 {
				continue
			}
			head, err := manet.FromIP(own)
			if err != nil {
				continue
			}
			out = append(out, head.Encapsulate(rest))
		}
	}
	return uniqueAddrs(out)
}

// dialable reports whether a browser may hand a on to be dialled: a direct
// address whose IP is neither unspecified, multicast nor link-local, and is
// loopback only when the answer came over a loopback interface. It stops a
// host on the LAN from steering dials at this machine's own loopback
// services.
func dialable(a ma.Multiaddr, loopbackOK bool) bool {
	ip, _, ok := splitDirect(a)
	if !ok || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLinkLocalUnicast() {
		return false
	}
	return loopbackOK || !ip.IsLoopback()
}

// tcpPort returns the port of the first TCP address in addrs, else of the
// first UDP one, else 0. It becomes the SRV record's port.
func tcpPort(addrs []ma.Multiaddr) int {
	port := 0
	for _, a := range addrs {
		_, rest, ok := splitDirect(a)
		if !ok {
			continue
		}
		c, _ := ma.SplitFirst(rest)
		p, err := strconv.Atoi(c.Value())
		if err != nil {
			continue
		}
		if c.Code() == ma.P_TCP {
			return p
		}
		if port == 0 {
			port = p
		}
	}
	return port
}

// uniqueAddrs drops repeated addresses, keeping the first of each in order;
// ma.Unique would sort them.
func uniqueAddrs(addrs []ma.Multiaddr) []ma.Multiaddr {
	out := addrs[:0:0]
	for _, a := range addrs {
		if !slices.ContainsFunc(out, a.Equal) {
			out = append(out, a)
		}
	}
	return out
}
