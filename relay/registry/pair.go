package registry

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Pair binds the device that token authenticates to the libp2p peer p. Pairing
// the same peer again succeeds and changes nothing. It fails with the errors
// of Authenticate, with ErrTokenInUse if the token is bound to another peer,
// and with ErrPeerInUse if p is bound to another device.
func (r *Registry) Pair(token string, p peer.ID) (Device, error) {
	if err := p.Validate(); err != nil {
		return Device{}, fmt.Errorf("registry pair: %w", err)
	}
	d, err := r.Authenticate(token)
	if err != nil {
		return Device{}, fmt.Errorf("registry pair: %w", err)
	}
	e, _, err := r.update(d.Name, func(next *entry) (bool, error) {
		switch {
		case next.Revoked:
			return false, ErrRevoked
		case next.Peer == p:
			return false, nil
		case next.Peer != "":
			return false, ErrTokenInUse
		case r.byPeer[p] != nil:
			return false, ErrPeerInUse
		}
		next.Peer = p
		return true, nil
	})
	if err != nil {
		return Device{}, fmt.Errorf("registry pair %q with %s: %w", d.Name, p, err)
	}
	return e.Device.clone(), nil
}

// ByPeer returns the device paired with p, revoked or not.
func (r *Registry) ByPeer(p peer.ID) (Device, bool) {
	r.mu.RLock()
	e := r.byPeer[p]
	r.mu.RUnlock()
	if e == nil {
		return Device{}, false
	}
	return e.Device.clone(), true
}

// Admitted reports whether p is paired with a device that is neither
// revoked nor expired.
func (r *Registry) Admitted(p peer.ID) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.byPeer[p]
	return e != nil && !e.Revoked && !e.expiredAt(r.now())
}

// Refused reports whether p is paired with a device that is revoked or
// expired: its connections are refused.
func (r *Registry) Refused(p peer.ID) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.byPeer[p]
	return e != nil && (e.Revoked || e.expiredAt(r.now()))
}

// RevokedPeer reports whether p is paired with a revoked device.
func (r *Registry) RevokedPeer(p peer.ID) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.byPeer[p]
	return e != nil && e.Revoked
}
