package relaylink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// Store is the device's replica as the exchange uses it; *store.Store
// satisfies it.
type Store interface {
	// Vector returns the replica's contiguous vector.
	Vector() crdt.Vector
	// Collect removes tombstones whose version q covers.
	Collect(ctx context.Context, q crdt.Vector) (int, error)
	// Drop removes every current record match selects.
	Drop(ctx context.Context, match func(crdt.Record) bool) (int, error)
}

// ErrRefused is wrapped by the error of an exchange the relay refused: a
// wrong or revoked token, or an unpaired device without one.
var ErrRefused = errors.New("relay refused this device")

// exchangeTimeout bounds one exchange; a resync may stream many keys.
const exchangeTimeout = 2 * time.Minute

// Result is what one exchange did.
type Result struct {
	// Device is the name the relay knows this device by.
	Device string
	// ServerSeq is the relay's server sequence at the exchange.
	ServerSeq uint64
	// Collected counts tombstones collected on the relay's say-so.
	Collected int
	// Resynced reports a resync; Dropped counts the records it removed.
	Resynced bool
	Dropped  int
	// Peers are other paired devices the relay can reach.
	Peers []peer.ID
}

// Exchange runs one control exchange with the relay: it pairs (if token is
// set and the device is not paired yet), acknowledges the local vector,
// collects the tombstones the relay clears, and resyncs if told to.
func Exchange(ctx context.Context, h host.Host, relay peer.ID, token string, st Store) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	s, err := h.NewStream(ctx, relay, ProtocolID)
	if err != nil {
		return Result{}, fmt.Errorf("relaylink open: %w", err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()

	c := newCodec(s)
	if err := c.send(Request{Token: token, Ack: st.Vector()}); err != nil {
		return Result{}, err
	}
	var resp Response
	if err := c.recv(&resp); err != nil {
		return Result{}, err
	}
	if resp.Error != "" {
		return Result{}, fmt.Errorf("relaylink: %w: %s", ErrRefused, resp.Error)
	}
	res := Result{Device: resp.Device, ServerSeq: resp.ServerSeq, Peers: parsePeers(resp.Peers, h.ID(), relay)}
	if len(resp.Collect) > 0 {
		if res.Collected, err = st.Collect(ctx, resp.Collect); err != nil {
			return res, fmt.Errorf("relaylink collect: %w", err)
		}
	}
	if resp.Resync {
		if res.Dropped, err = resync(ctx, c, st); err != nil {
			return res, err
		}
		res.Resynced = true
	}
	return res, nil
}

// resync reads the relay's key set and drops every local record the relay
// has seen (its vector covers the version) but no longer holds: the relay
// collected it as a deleted key while this device was away.
func resync(ctx context.Context, c *codec, st Store) (int, error) {
	keys := map[[2]string]struct{}{}
	var final KeyFrame
	for {
		var f KeyFrame
		if err := c.recv(&f); err != nil {
			return 0, fmt.Errorf("relaylink resync: %w", err)
		}
		if len(f.Keys) > MaxKeysPerFrame {
			return 0, fmt.Errorf("relaylink resync: %w: %d keys in a frame", crdt.ErrCorrupt, len(f.Keys))
		}
		for _, k := range f.Keys {
			keys[k] = struct{}{}
		}
		if f.Done {
			final = f
			break
		}
	}
	dropped, err := st.Drop(ctx, func(r crdt.Record) bool {
		_, held := keys[[2]string{r.NS, r.Key}]
		return !held && final.Vector.Covers(r.Version.Origin, r.Version.Seq)
	})
	if err != nil {
		return dropped, fmt.Errorf("relaylink resync drop: %w", err)
	}
	if err := c.send(Ack{Resynced: true}); err != nil {
		return dropped, err
	}
	return dropped, nil
}

// parsePeers keeps the well-formed peer IDs other than self and the relay.
func parsePeers(ss []string, self, relay peer.ID) []peer.ID {
	var out []peer.ID
	for _, s := range ss[:min(len(ss), MaxPeers)] {
		if p, err := peer.Decode(s); err == nil && p != self && p != relay {
			out = append(out, p)
		}
	}
	return out
}
