package relay

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/relaylink"
	"github.com/syncnode/syncnode/relay/registry"
)

const controlProtocol = relaylink.ProtocolID

// controlTimeout bounds one exchange; a resync streams every key.
const controlTimeout = 2 * time.Minute

// errRateLimited refuses a source that failed too often recently.
var errRateLimited = errors.New("too many failed attempts from this address; wait and retry")

// handleControl serves one device exchange: pair if needed, record the
// device's acknowledged vector, answer with the server sequence, the
// collection vector and the reachable devices, pull from the device if it
// holds writes the relay lacks, and resync the device if it was away past
// the horizon.
func (r *Relay) handleControl(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(controlTimeout))
	p := s.Conn().RemotePeer()
	rd := relaylink.NewReader(s)
	var req relaylink.Request
	if err := rd.Recv(&req); err != nil {
		r.log.Debug("bad control request", "peer", p, "err", err)
		_ = s.Reset()
		return
	}
	dev, fresh, err := r.admitDevice(p, sourceOf(s.Conn()), req.Token)
	if err != nil {
		r.log.Info("refused a device", "peer", p, "err", err)
		_ = relaylink.Send(s, relaylink.Response{Error: err.Error()})
		_ = s.CloseWrite()
		// Let the answer reach the device, then drop it.
		_, _ = s.Read(make([]byte, 1))
		_ = r.node.Host().Network().ClosePeer(p)
		return
	}
	if err := r.reg.Ack(dev.Name, req.Ack, 0); err != nil {
		r.log.Debug("bad ack", "device", dev.Name, "err", err)
	}
	resp := relaylink.Response{
		Device:    dev.Name,
		ServerSeq: r.node.Store().Stats().FeedHead,
		Collect:   r.gc.vector(),
		Resync:    dev.Resync,
		Peers:     r.reachable(p),
	}
	if err := relaylink.Send(s, resp); err != nil {
		return
	}
	if fresh || !r.node.Store().Vector().Dominates(req.Ack) {
		// Pull what the device holds that the relay lacks: all of it at
		// pairing, and later whatever gossip failed to bring, now rather
		// than at the relay's next timed round.
		r.node.RequestSync(p)
	}
	if dev.Resync {
		if err := r.sendKeys(s, rd); err != nil {
			r.log.Warn("resync failed", "device", dev.Name, "err", err)
			return
		}
		if err := r.reg.ClearResync(dev.Name); err != nil {
			r.log.Warn("clear resync mark", "device", dev.Name, "err", err)
		}
		r.log.Info("device resynced", "device", dev.Name)
	}
}

// admitDevice returns p's device, pairing it with token first if needed.
// fresh reports a pairing made just now.
func (r *Relay) admitDevice(p peer.ID, source, token string) (dev registry.Device, fresh bool, err error) {
	if d, ok := r.reg.ByPeer(p); ok {
		switch {
		case r.reg.Admitted(p):
			return d, false, nil
		case d.Revoked:
			return d, false, registry.ErrRevoked
		default:
			return d, false, registry.ErrExpired
		}
	}
	if token == "" {
		return dev, false, errors.New("this device is not paired: start it with --relay-token (create one with `syncnode relay token create --name NAME`)")
	}
	if !r.limiter.Allow(source) {
		return dev, false, errRateLimited
	}
	d, err := r.reg.Pair(token, p)
	if err != nil {
		r.limiter.Fail(source)
		return dev, false, fmt.Errorf("pairing refused: %w", err)
	}
	r.log.Info("device paired", "device", d.Name, "peer", p)
	return d, true, nil
}

// reachable lists the other admitted devices connected to the relay, which
// p may dial through the circuit.
func (r *Relay) reachable(p peer.ID) []string {
	var out []string
	for _, q := range r.node.Host().Network().Peers() {
		if q != p && r.reg.Admitted(q) && len(out) < relaylink.MaxPeers {
			out = append(out, q.String())
		}
	}
	return out
}

// sendKeys streams every key the relay holds, from one snapshot, then that
// snapshot's vector, and waits for the device's acknowledgement.
func (r *Relay) sendKeys(s network.Stream, rd *relaylink.Reader) error {
	sn := r.node.Store().Snapshot()
	defer sn.Close()
	vec, err := sn.Vector()
	if err != nil {
		return err
	}
	var frame relaylink.KeyFrame
	flush := func() error {
		err := relaylink.Send(s, frame)
		frame.Keys = frame.Keys[:0]
		return err
	}
	err = sn.Above(crdt.Vector{}, func(rec crdt.Record) error {
		frame.Keys = append(frame.Keys, [2]string{rec.NS, rec.Key})
		if len(frame.Keys) == relaylink.MaxKeysPerFrame {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	frame.Done, frame.Vector = true, vec
	if err := flush(); err != nil {
		return err
	}
	var ack relaylink.Ack
	if err := rd.Recv(&ack); err != nil {
		return err
	}
	if !ack.Resynced {
		return errors.New("device did not confirm the resync")
	}
	return nil
}

// sourceOf is the address failures are counted against: the remote IP.
func sourceOf(c network.Conn) string {
	if ip, err := manet.ToIP(c.RemoteMultiaddr()); err == nil {
		return ip.String()
	}
	return c.RemoteMultiaddr().String()
}
