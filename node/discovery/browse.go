package discovery

import (
	"cmp"
	"context"
	"log"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// entryBuffer is how many answers one query holds. hashicorp/mdns drops an
// answer it cannot hand over at once, so the channel must absorb a burst;
// an answer lost here is found again next round.
const entryBuffer = 64

// verdict is what the browser made of one mDNS entry.
type verdict int

const (
	// verdictPeer: a peer of our group with at least one dialable address.
	verdictPeer verdict = iota
	// verdictSelf: our own advertisement, heard back.
	verdictSelf
	// verdictOtherGroup: a syncnode of another group.
	verdictOtherGroup
	// verdictMalformed: no usable peer ID, hint or address.
	verdictMalformed
)

// classify decides whether e advertises a peer of the group named by hint
// and, if so, where to dial it: the TXT addresses that are dialable, or,
// when there are none, the A record with the SRV port as TCP. loopbackOK
// says whether e came over a loopback interface.
func classify(e *mdns.ServiceEntry, self peer.ID, hint string, loopbackOK bool) (peer.AddrInfo, verdict) {
	rec, err := parseTXT(e.InfoFields)
	if err != nil {
		return peer.AddrInfo{}, verdictMalformed
	}
	if rec.ID == self {
		return peer.AddrInfo{}, verdictSelf
	}
	if rec.Hint != hint {
		return peer.AddrInfo{}, verdictOtherGroup
	}
	ai := peer.AddrInfo{ID: rec.ID}
	for _, a := range rec.Addrs {
		if dialable(a, loopbackOK) {
			ai.Addrs = append(ai.Addrs, a)
		}
	}
	if len(ai.Addrs) == 0 && e.AddrV4 != nil && e.Port > 0 && e.Port <= 0xffff {
		if a, err := srvAddr(e.AddrV4, e.Port); err == nil && dialable(a, loopbackOK) {
			ai.Addrs = append(ai.Addrs, a)
		}
	}
	if len(ai.Addrs) == 0 {
		return peer.AddrInfo{}, verdictMalformed
	}
	return ai, verdictPeer
}

// srvAddr is the TCP address an entry's A and SRV records name.
func srvAddr(ip net.IP, port int) (ma.Multiaddr, error) {
	head, err := manet.FromIP(ip)
	if err != nil {
		return nil, err
	}
	tcp, err := ma.NewComponent("tcp", strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	return head.AppendComponent(tcp), nil
}

// mergePeers folds the peers of one round into one AddrInfo each, with
// addresses deduplicated, sorted by peer ID so that callbacks come in a
// stable order.
func mergePeers(found []peer.AddrInfo) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, ai := range found {
		i := slices.IndexFunc(out, func(o peer.AddrInfo) bool { return o.ID == ai.ID })
		if i < 0 {
			out = append(out, peer.AddrInfo{ID: ai.ID, Addrs: slices.Clone(ai.Addrs)})
			continue
		}
		out[i].Addrs = uniqueAddrs(append(out[i].Addrs, ai.Addrs...))
	}
	slices.SortFunc(out, func(a, b peer.AddrInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// query browses once on ifi and returns every complete answer heard within
// timeout. It runs over IPv4 only: IPv6 multicast is often missing (network
// namespaces, hosts with IPv6 off), and hashicorp/mdns fails the whole query
// when the IPv6 send fails. Peers' IPv6 addresses still arrive in TXT.
// Cancelling ctx closes the sockets, but the call still lasts until timeout.
func query(ctx context.Context, ifi *net.Interface, timeout time.Duration, logger *log.Logger) ([]*mdns.ServiceEntry, error) {
	ch := make(chan *mdns.ServiceEntry, entryBuffer)
	done := make(chan []*mdns.ServiceEntry)
	go func() {
		var entries []*mdns.ServiceEntry
		for e := range ch {
			entries = append(entries, e)
		}
		done <- entries
	}()
	err := mdns.QueryContext(ctx, &mdns.QueryParam{
		Service:     ServiceName,
		Domain:      Domain,
		Timeout:     timeout,
		Interface:   ifi,
		Entries:     ch,
		DisableIPv6: true,
		Logger:      logger,
	})
	// QueryContext sends on ch only from its own goroutine, so nothing is
	// sent after it returns.
	close(ch)
	entries := <-done
	return entries, err
}
