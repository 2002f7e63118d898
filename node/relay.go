package node

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	circuit "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/relaylink"
)

// RelayLink keeps a device paired and in sync with a relay.
type RelayLink struct {
	// Peer is the relay, with its addresses.
	Peer peer.AddrInfo
	// Token pairs the device on first contact.
	Token string
	// Interval is the period of exchanges besides those on connection;
	// zero means DefaultRelayInterval.
	Interval time.Duration
	// OnPaired, if set, is called after every exchange the relay accepted,
	// with the device's name there (the daemon remembers the token then).
	OnPaired func(device string)
}

// DefaultRelayInterval is how often a device acknowledges its state to the
// relay and checks the connection, besides on every (re)connection.
const DefaultRelayInterval = 30 * time.Second

// reservationMargin renews the circuit reservation this long before it
// expires.
const reservationMargin = 5 * time.Minute

// relayState is what status reports about the relay link.
type relayState struct {
	mu        sync.Mutex
	device    string
	serverSeq uint64
	lastOK    time.Time
	err       error
	refusal   error // the relay's last refusal, kept until it accepts us
}

func (s *relayState) set(res relaylink.Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	switch {
	case err == nil:
		s.device, s.serverSeq, s.lastOK = res.Device, res.ServerSeq, time.Now()
		s.refusal = nil
	case errors.Is(err, relaylink.ErrRefused):
		s.refusal = err
	}
}

// lastError is the error status shows: the relay's refusal, if it refused
// us, rather than the failed redials that follow it.
func (s *relayState) lastError() error {
	if s.refusal != nil {
		return s.refusal
	}
	return s.err
}

// relayLoop dials the relay whenever disconnected, runs a control exchange
// on every connection and every relayInterval, pulls from the relay after
// each, keeps a circuit reservation so other devices can reach this one
// through the relay, and dials the devices the relay reports.
func (n *Node) relayLoop(link RelayLink) {
	interval := cmp.Or(link.Interval, DefaultRelayInterval)
	var reservedUntil time.Time
	for {
		wait, kickable := interval, true
		if err := n.dial(n.ctx, link.Peer, SourceRelay); err != nil {
			n.relay.set(relaylink.Result{}, err)
			n.log.Debug("relay unreachable", "relay", link.Peer.ID, "err", err)
			wait = min(wait, redialInterval)
		} else {
			switch err := n.exchange(link); {
			case err == nil:
				reservedUntil = n.reserve(link.Peer, reservedUntil)
			case errors.Is(err, relaylink.ErrRefused):
				// The relay drops us after a refusal: redialling at once
				// would only be refused again. Wait the full period.
				kickable = false
			}
		}
		kick := n.relayKick
		if !kickable {
			kick = nil
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(wait):
		case <-kick:
		}
	}
}

// exchange runs one control exchange; an error wrapping
// relaylink.ErrRefused means the relay refused this device.
func (n *Node) exchange(link RelayLink) error {
	res, err := relaylink.Exchange(n.ctx, n.host, link.Peer.ID, link.Token, n.store)
	n.relay.set(res, err)
	switch {
	case errors.Is(err, relaylink.ErrRefused):
		n.log.Error("relay refused this device", "relay", link.Peer.ID, "err", err)
		return err
	case err != nil:
		if n.ctx.Err() == nil {
			n.log.Warn("relay exchange failed", "relay", link.Peer.ID, "err", err)
		}
		return err
	}
	if link.OnPaired != nil {
		link.OnPaired(res.Device)
	}
	if res.Resynced {
		n.log.Warn("resynced with the relay after an absence past its horizon", "dropped", res.Dropped)
	}
	n.requestSyncWhenQuiet(link.Peer.ID, "relay")
	n.dialDevices(link.Peer, res.Peers)
	return nil
}

// maxCircuitPeers is how many other devices a device keeps connections to
// through the relay. A few keep the group syncing device to device, and
// give hole punching its chance, should the relay go away; one to every
// device would cost the relay a circuit per pair and add nothing, since
// the relay already passes every write on to every device.
const maxCircuitPeers = 8

// dialDevices connects, through the relay's circuit, to devices the relay
// reported, in random order so that devices spread their connections,
// until this device has maxCircuitPeers device connections.
func (n *Node) dialDevices(relay peer.AddrInfo, devices []peer.ID) {
	nw := n.host.Network()
	have := 0
	for _, p := range nw.Peers() {
		if p != relay.ID {
			have++
		}
	}
	for _, i := range rand.Perm(len(devices)) {
		if have >= maxCircuitPeers {
			return
		}
		if p := devices[i]; p != n.host.ID() && nw.Connectedness(p) != network.Connected {
			n.dialAsync(peer.AddrInfo{ID: p, Addrs: circuitAddrs(relay)}, SourceRelay)
			have++
		}
	}
}

// reserve renews the circuit reservation on the relay when it is due, and
// returns when the current one expires.
func (n *Node) reserve(relay peer.AddrInfo, until time.Time) time.Time {
	if time.Until(until) > reservationMargin {
		return until
	}
	ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
	defer cancel()
	r, err := circuit.Reserve(ctx, n.host, relay)
	if err != nil {
		n.log.Debug("relay reservation failed", "relay", relay.ID, "err", err)
		return until
	}
	return r.Expiration
}

// circuitAddrs are the addresses through which a device is reached via the
// relay's circuit.
func circuitAddrs(relay peer.AddrInfo) []ma.Multiaddr {
	circuitPart := ma.StringCast("/p2p/" + relay.ID.String() + "/p2p-circuit")
	out := make([]ma.Multiaddr, 0, len(relay.Addrs))
	for _, a := range relay.Addrs {
		out = append(out, a.Encapsulate(circuitPart))
	}
	return out
}

// kickRelay wakes the relay loop for an exchange now.
func (n *Node) kickRelay() {
	select {
	case n.relayKick <- struct{}{}:
	default:
	}
}

// relayPeer is link's relay, or empty without one.
func relayPeer(link *RelayLink) peer.ID {
	if link == nil {
		return ""
	}
	return link.Peer.ID
}
