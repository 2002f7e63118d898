package registry

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// MaxNameLen is the longest device name, in bytes.
const MaxNameLen = 64

// Device is what the registry knows about one paired device or HTTP client.
// Values handed out are copies: changing one changes nothing in the registry.
type Device struct {
	// Name is the operator's label, unique in the registry.
	Name string
	// Created is when the token was issued.
	Created time.Time
	// Revoked is set once the device is revoked; it is never cleared.
	Revoked bool
	// RevokedAt is when the device was revoked.
	RevokedAt time.Time
	// Expires, if set, is when the token stops pairing and authenticating
	// and the device stops being admitted.
	Expires time.Time
	// Peer is the libp2p peer that paired with the token; "" until one does.
	Peer peer.ID
	// LastSeen is when the device last acknowledged; zero if it never did.
	LastSeen time.Time
	// Ack is the last version vector the device acknowledged.
	Ack crdt.Vector
	// Cursor is the last relay feed position the device acknowledged.
	Cursor uint64
	// Resync is set when the device must resync fully before its pushes
	// are trusted.
	Resync bool
}

// expiredAt reports whether d's access has ended by now.
func (d Device) expiredAt(now time.Time) bool {
	return !d.Expires.IsZero() && !now.Before(d.Expires)
}

// clone returns a copy of d that shares no memory with it.
func (d Device) clone() Device {
	d.Ack = d.Ack.Clone()
	return d
}

// entry is a device together with its credential. Installed entries are
// never modified: a mutation installs a changed copy, so readers may keep a
// pointer after releasing the registry's lock.
type entry struct {
	Device
	cred credential
}

// clone returns a copy of e that may be modified freely.
func (e *entry) clone() *entry {
	c := *e
	c.Device = e.Device.clone()
	return &c
}

// validateName checks a device name: 1 to MaxNameLen characters from
// A-Z a-z 0-9 . _ -
func validateName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: %q must be 1 to %d characters", ErrBadName, name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return fmt.Errorf("%w: %q: character %q not allowed (use A-Z a-z 0-9 . _ -)", ErrBadName, name, name[i])
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}
