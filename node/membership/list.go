package membership

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// Device is one device of the group as this node knows it.
type Device struct {
	ID    crdt.NodeID
	Name  string
	Relay bool
	// Announced is when the device last announced itself; zero if it never
	// did (a device revoked before this node heard of it).
	Announced time.Time
	Revoked   bool
	// RevokedBy and RevokedAt say who revoked it and when; Cut is the last
	// of its writes that stays valid.
	RevokedBy crdt.NodeID
	RevokedAt time.Time
	Cut       uint64
}

// Source is the replica List loads from; *store.Store satisfies it.
type Source interface {
	List(ns, prefix, after string, limit int) ([]crdt.Record, bool, error)
}

// loadPage is how many records Load reads at a time.
const loadPage = 1000

// List indexes the group's devices and revocations. It is safe for
// concurrent use; its reads are a map lookup under a read lock.
type List struct {
	mu      sync.RWMutex
	devices map[crdt.NodeID]*Device
	revoked map[crdt.NodeID]uint64 // lowest cut by revoked device
	peers   map[peer.ID]struct{}   // the same devices, as libp2p sees them
	keys    map[string]struct{}    // the revocation records' keys
}

// NewList returns an empty List.
func NewList() *List {
	return &List{
		devices: map[crdt.NodeID]*Device{},
		revoked: map[crdt.NodeID]uint64{},
		peers:   map[peer.ID]struct{}{},
		keys:    map[string]struct{}{},
	}
}

// Load builds a List from the membership records src holds.
func Load(src Source) (*List, error) {
	l := NewList()
	for _, ns := range []string{DevicesNS, RevokedNS} {
		after := ""
		for {
			recs, more, err := src.List(ns, "", after, loadPage)
			if err != nil {
				return nil, fmt.Errorf("membership load %s: %w", ns, err)
			}
			for _, r := range recs {
				l.Observe(r)
			}
			if !more || len(recs) == 0 {
				break
			}
			after = recs[len(recs)-1].Key
		}
	}
	return l, nil
}

// Observe takes in a record that won its key's merge. It ignores records
// outside the membership namespaces and invalid ones (Check refuses those
// before they merge). If r revokes a device, or lowers its cut, it returns
// the device and true: writes of it that were valid may no longer be.
func (l *List) Observe(r crdt.Record) (Device, bool) {
	if (r.NS != DevicesNS && r.NS != RevokedNS) || Check(r) != nil {
		return Device{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	at := time.UnixMilli(r.Version.HLC.WallMS()).UTC()
	if r.NS == DevicesNS {
		d := l.device(crdt.NodeID(r.Key))
		a, _ := decodeAnnouncement(r)
		d.Name, d.Relay, d.Announced = a.Name, a.Relay, at
		return *d, false
	}
	id, revoker, _ := parseRevocationKey(r.Key)
	v, _ := decodeRevocation(r)
	l.keys[r.Key] = struct{}{}
	d := l.device(id)
	cut, revoked := l.revoked[id]
	if revoked && v.Seq >= cut {
		return *d, false
	}
	if !revoked || at.Before(d.RevokedAt) {
		d.RevokedBy, d.RevokedAt = revoker, at
	}
	d.Revoked, d.Cut = true, v.Seq
	if d.Name == "" {
		d.Name = v.Name
	}
	l.revoked[id] = v.Seq
	if p, err := peer.Decode(string(id)); err == nil { // Check parsed it already
		l.peers[p] = struct{}{}
	}
	return *d, true
}

// device returns the entry of id, made if need be. l.mu is held.
func (l *List) device(id crdt.NodeID) *Device {
	d := l.devices[id]
	if d == nil {
		d = &Device{ID: id}
		l.devices[id] = d
	}
	return d
}

// Revoked reports whether id is a revoked device.
func (l *List) Revoked(id crdt.NodeID) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.revoked[id]
	return ok
}

// RevokedPeer reports whether p is a revoked device. It is Revoked for
// callers that hold a libp2p peer ID, whose string form is costly to build.
func (l *List) RevokedPeer(p peer.ID) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.peers[p]
	return ok
}

// Admit reports whether a write stamped v is valid: its origin is not
// revoked, or v is at or below the origin's cut.
func (l *List) Admit(v crdt.Version) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	cut, ok := l.revoked[v.Origin]
	return !ok || v.Seq <= cut
}

// Records returns how many membership records the List was built from:
// one per announced device and one per revocation. Status leaves them out
// of the record count a user sees.
func (l *List) Records() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := len(l.keys)
	for _, d := range l.devices {
		if !d.Announced.IsZero() {
			n++
		}
	}
	return n
}

// Device returns what the List knows of id.
func (l *List) Device(id crdt.NodeID) (Device, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	d, ok := l.devices[id]
	if !ok {
		return Device{}, false
	}
	return *d, true
}

// Devices returns every known device, by name then ID.
func (l *List) Devices() []Device {
	l.mu.RLock()
	out := make([]Device, 0, len(l.devices))
	for _, d := range l.devices {
		out = append(out, *d)
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b Device) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Errors returned by Find.
var (
	ErrUnknownDevice   = errors.New("no such device")
	ErrAmbiguousDevice = errors.New("more than one device has that name; give its ID")
)

// Find looks a device up by ID or by name. An argument that is a device
// ID is only ever taken as one, even if no record names it yet: a device
// can be revoked before this node heard of it.
func (l *List) Find(nameOrID string) (Device, error) {
	if p, err := peer.Decode(nameOrID); err == nil {
		id := crdt.NodeID(p.String())
		if d, ok := l.Device(id); ok {
			return d, nil
		}
		return Device{ID: id}, nil
	}
	var found []Device
	for _, d := range l.Devices() {
		if d.Name == nameOrID {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return Device{}, fmt.Errorf("membership find %q: %w", nameOrID, ErrAmbiguousDevice)
	}
	return Device{}, fmt.Errorf("membership find %q: %w", nameOrID, ErrUnknownDevice)
}

// Errors of revoking, for callers that refuse before writing anything.
var (
	// ErrRevokesItself means a device tried to revoke itself; another
	// device must do it.
	ErrRevokesItself = errors.New("a device cannot revoke itself; revoke it from another device")
	// ErrSelfRevoked means this device is revoked: nobody would accept its
	// revocations any more.
	ErrSelfRevoked = errors.New("this device is revoked; only a device that is not can revoke others")
)
