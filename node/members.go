package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/store"
)

// observe hands records that won their merge to the device list, cuts off
// every device they newly revoke, and drops any of them that a revocation
// merged meanwhile has made invalid: a record checked before its origin's
// revocation arrived, and merged after.
func (n *Node) observe(recs []crdt.Record) {
	var late []crdt.NodeID
	for _, r := range recs {
		if crdt.IsSystemNamespace(r.NS) {
			if d, fresh := n.members.Observe(r); fresh {
				n.cutOff(d)
			}
		}
		if !n.members.Admit(r.Version) && !slices.Contains(late, r.Version.Origin) {
			late = append(late, r.Version.Origin)
		}
	}
	for _, origin := range late {
		if d, ok := n.members.Device(origin); ok {
			n.dropAfterCut(d)
		}
	}
}

// cutOff acts on a revocation: the device's connections close (the gater
// and admission keep it out from now on), and what it wrote after the cut
// is dropped.
func (n *Node) cutOff(d membership.Device) {
	if d.ID == n.store.Origin() {
		// Nobody will take this device's writes any more, but they are
		// still its user's: keep them here.
		n.log.Error("this device has been revoked: its writes no longer reach the group", "by", d.RevokedBy)
		return
	}
	n.log.Warn("device revoked", "device", d.ID, "name", d.Name, "by", d.RevokedBy, "cut", d.Cut)
	if p, err := peer.Decode(string(d.ID)); err == nil {
		_ = n.host.Network().ClosePeer(p)
	}
	n.dropAfterCut(d)
	if n.cfg.OnRevoke != nil {
		n.cfg.OnRevoke(d)
	}
}

// dropAfterCut drops, in the background, the writes of a revoked device
// after its cut that were accepted before the revocation arrived, so that
// every replica ends up holding the same writes of it. A key so emptied
// may have held another device's record before: the next pull from a peer
// that has seen all we have refills it. A revoked device keeps its own.
func (n *Node) dropAfterCut(d membership.Device) {
	if d.ID == n.store.Origin() {
		return
	}
	n.bg.Go(func() {
		dropped, err := n.store.DropAfter(n.ctx, d.ID, d.Cut)
		switch {
		case err != nil && n.ctx.Err() == nil:
			n.log.Error("could not drop a revoked device's late writes", "device", d.ID, "err", err)
		case dropped > 0:
			n.log.Info("dropped a revoked device's writes after its cut", "device", d.ID, "records", dropped)
			n.refillHoles()
		}
	})
}

// refillPauses spaces the rounds of pulls refillHoles makes. The first
// round may only join a session already under way, which asked for no
// refill, and a peer can answer only once it has seen everything this
// replica has, its own latest writes included, which it may still be
// pulling. The timed rounds keep asking after the last.
var refillPauses = []time.Duration{0, 0, 250 * time.Millisecond, time.Second, 4 * time.Second, 15 * time.Second}

// refillHoles pulls from the peers that differ until the keys a drop left
// empty are refilled (see store.DropAfter), for a bounded number of rounds.
// A call while it runs returns at once: the loop running sees the new holes.
func (n *Node) refillHoles() {
	if !n.refilling.CompareAndSwap(false, true) {
		return
	}
	defer n.refilling.Store(false)
	for _, pause := range refillPauses {
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(pause):
		}
		if n.store.HoleCount() == 0 {
			return
		}
		n.pullDiffering()
	}
}

// writeSystem writes a membership record, takes it in and gossips it.
func (n *Node) writeSystem(ctx context.Context, ns, key string, value []byte) error {
	rec, err := n.store.PutRecord(ctx, ns, key, value)
	if err != nil {
		return fmt.Errorf("node write %s/%s: %w", ns, key, err)
	}
	n.observe([]crdt.Record{rec})
	n.gossip.Publish(rec)
	return nil
}

// Announce makes sure the group knows this device by name: it writes the
// device's own _devices record unless that already says the same.
func (n *Node) Announce(ctx context.Context, name string, relay bool) error {
	if err := membership.ValidateName(name); err != nil {
		return fmt.Errorf("node announce: %w", err)
	}
	self := n.store.Origin()
	if d, ok := n.members.Device(self); ok && !d.Announced.IsZero() && d.Name == name && d.Relay == relay {
		return nil
	}
	value := membership.AnnouncementValue(membership.Announcement{Name: name, Relay: relay})
	return n.writeSystem(ctx, membership.DevicesNS, string(self), value)
}

// announceRetry is how often announceSoon retries while the store takes no
// local writes.
const announceRetry = 5 * time.Second

// announceFirst announces the device before the node dials anyone, so the
// pull each peer makes on connecting carries the announcement: one
// published before the peers' subscriptions are known reaches nobody. A
// store restored from a backup takes local writes only after its first
// sync, for which the node must run: it announces in the background then.
func (n *Node) announceFirst(a membership.Announcement) {
	err := n.Announce(n.ctx, a.Name, a.Relay)
	switch {
	case errors.Is(err, store.ErrRestored):
		n.announceSoon(a.Name, a.Relay)
	case err != nil:
		n.log.Error("could not announce this device to the group", "err", err)
	}
}

// announceSoon announces the device in the background, retrying while the
// store, restored from a backup, takes no local writes.
func (n *Node) announceSoon(name string, relay bool) {
	n.bg.Go(func() {
		for {
			changed := n.store.Changed()
			err := n.Announce(n.ctx, name, relay)
			switch {
			case err == nil || n.ctx.Err() != nil:
				return
			case !errors.Is(err, store.ErrRestored):
				n.log.Error("could not announce this device to the group", "err", err)
				return
			}
			select {
			case <-n.ctx.Done():
				return
			case <-changed:
			case <-time.After(announceRetry):
			}
		}
	})
}

// Devices lists the group's devices as this node knows them.
func (n *Node) Devices() []api.Device {
	devs := n.members.Devices()
	out := make([]api.Device, len(devs))
	for i, d := range devs {
		out[i] = n.deviceOut(d)
	}
	return out
}

// Revoke revokes a device, by name or ID, for the whole group: it writes
// the revocation, which spreads like any record, and cuts the device off
// here at once. Revoking a device already revoked changes nothing.
func (n *Node) Revoke(ctx context.Context, nameOrID string) (api.Device, error) {
	self := n.store.Origin()
	if n.members.Revoked(self) {
		return api.Device{}, fmt.Errorf("node revoke: %w", membership.ErrSelfRevoked)
	}
	d, err := n.members.Find(nameOrID)
	if err != nil {
		return api.Device{}, fmt.Errorf("node revoke: %w", err)
	}
	if d.ID == self {
		return api.Device{}, fmt.Errorf("node revoke: %w", membership.ErrRevokesItself)
	}
	if !d.Revoked {
		value := membership.RevocationValue(membership.Revocation{Name: d.Name, Seq: n.store.Vector().Get(d.ID)})
		if err := n.writeSystem(ctx, membership.RevokedNS, membership.RevocationKey(d.ID, self), value); err != nil {
			return api.Device{}, fmt.Errorf("node revoke: %w", err)
		}
		d, _ = n.members.Device(d.ID)
	}
	return n.deviceOut(d), nil
}

func (n *Node) deviceOut(d membership.Device) api.Device {
	return api.Device{
		ID:        string(d.ID),
		Name:      d.Name,
		Relay:     d.Relay,
		Self:      d.ID == n.store.Origin(),
		Announced: timeOrNil(d.Announced),
		Revoked:   d.Revoked,
		RevokedBy: string(d.RevokedBy),
		RevokedAt: timeOrNil(d.RevokedAt),
	}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Members returns the node's view of the group's devices.
func (n *Node) Members() *membership.List { return n.members }
