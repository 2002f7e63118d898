package discovery

import (
	"net"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/hashicorp/mdns"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/miekg/dns"
	ma "github.com/multiformats/go-multiaddr"
)

// maxLabel is the DNS limit on one label.
const maxLabel = 63

// zone answers mDNS questions for one interface. Its records are replaced
// whole on each refresh, so every answer comes from one advertisement.
type zone struct {
	svc atomic.Pointer[mdns.MDNSService]
}

var _ mdns.Zone = (*zone)(nil)

// Records answers q from the current advertisement; it answers nothing
// while the interface has no address to advertise. Safe for concurrent use.
func (z *zone) Records(q dns.Question) []dns.RR {
	svc := z.svc.Load()
	if svc == nil {
		return nil
	}
	return svc.Records(q)
}

// set replaces the advertisement; nil withdraws it.
func (z *zone) set(svc *mdns.MDNSService) { z.svc.Store(svc) }

// instanceName names self's advertisement on the interface with index
// ifIndex. It differs per interface because Linux hands a multicast query to
// every socket bound to port 5353, so the servers of all interfaces answer
// it; distinct names keep each answer's addresses apart at the browser
// instead of letting the first answer hide the right one. The name is cut
// from the left to fit a DNS label, keeping the random tail of the peer ID.
func instanceName(self peer.ID, ifIndex int) string {
	name := self.String() + "-" + strconv.Itoa(ifIndex)
	if len(name) > maxLabel {
		name = name[len(name)-maxLabel:]
	}
	return name
}

// advertisement builds what self advertises on the interface with index
// ifIndex and addresses ips, given the host's listen addresses. It returns
// nil when none of them is reachable through that interface.
func advertisement(self peer.ID, hint string, ifIndex int, ips []net.IP, listen []ma.Multiaddr) (*mdns.MDNSService, error) {
	addrs := localAddrs(listen, ips)
	if len(addrs) > maxTXTAddrs {
		addrs = addrs[:maxTXTAddrs]
	}
	port := tcpPort(addrs)
	if port == 0 {
		return nil, nil
	}
	var hostIPs []net.IP
	for _, a := range addrs {
		ip, _, _ := splitDirect(a)
		if !slices.ContainsFunc(hostIPs, ip.Equal) {
			hostIPs = append(hostIPs, ip)
		}
	}
	instance := instanceName(self, ifIndex)
	// A host name of its own per instance: the browser aliases the SRV
	// target to the instance, so instances that shared a host name could
	// swap A records.
	txt := encodeTXT(txtRecord{ID: self, Hint: hint, Addrs: addrs})
	return mdns.NewMDNSService(instance, ServiceName, Domain, instance+"."+Domain, port, hostIPs, txt)
}
