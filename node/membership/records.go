package membership

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// The reserved namespaces this package reads.
const (
	DevicesNS = crdt.SystemNamespacePrefix + "devices"
	RevokedNS = crdt.SystemNamespacePrefix + "revoked"
)

// MaxNameLen bounds a device name, in bytes.
const MaxNameLen = 64

// Announcement is the value of _devices/<peer ID>.
type Announcement struct {
	Name  string `json:"name"`
	Relay bool   `json:"relay,omitempty"`
}

// Revocation is the value of _revoked/<device ID>/<revoker ID>.
type Revocation struct {
	// Name is the revoked device's name, as the revoker knew it.
	Name string `json:"name,omitempty"`
	// Seq is the cut: the revoked device's writes with a seq up to it stay
	// valid; later ones are refused.
	Seq uint64 `json:"seq"`
}

// ValidateName checks a device name: 1 to MaxNameLen bytes of printable
// characters, and not a device ID, so that a name can never stand for
// another device's ID.
func ValidateName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: device name must be 1 to %d bytes", crdt.ErrInvalid, MaxNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: device name %q has a non-printable character", crdt.ErrInvalid, name)
		}
	}
	if _, err := peer.Decode(name); err == nil {
		return fmt.Errorf("%w: device name %q is a device ID", crdt.ErrInvalid, name)
	}
	return nil
}

// CanonicalID returns s as a device ID in its one canonical text form;
// ok is false if s is not a device ID in that form. libp2p also parses
// other forms of the same ID (CIDs), which would otherwise let one device
// pass for two.
func CanonicalID(s string) (crdt.NodeID, bool) {
	p, err := peer.Decode(s)
	if err != nil || p.String() != s {
		return "", false
	}
	return crdt.NodeID(s), true
}

// RevocationKey is the key under RevokedNS of revoker's revocation of
// device: each revoker writes its own, so that revocations never replace
// one another.
func RevocationKey(device, revoker crdt.NodeID) string {
	return string(device) + "/" + string(revoker)
}

// parseRevocationKey splits a RevocationKey.
func parseRevocationKey(key string) (device, revoker crdt.NodeID, ok bool) {
	d, r, found := strings.Cut(key, "/")
	if !found {
		return "", "", false
	}
	device, okD := CanonicalID(d)
	revoker, okR := CanonicalID(r)
	return device, revoker, okD && okR
}

// Check reports why a record of a reserved namespace may not be merged; nil
// for every other record. It is pure, so gossip and anti-entropy can call it
// before anything is stored.
func Check(r crdt.Record) error {
	switch r.NS {
	case DevicesNS:
		if _, ok := CanonicalID(r.Key); !ok || r.Key != string(r.Version.Origin) {
			return fmt.Errorf("%w: %s/%s written by %s: a device announces only itself, by its ID", crdt.ErrInvalid, r.NS, r.Key, r.Version.Origin)
		}
		_, err := decodeAnnouncement(r)
		return err
	case RevokedNS:
		device, revoker, ok := parseRevocationKey(r.Key)
		switch {
		case !ok:
			return fmt.Errorf("%w: %s/%s: want <device ID>/<revoker ID>", crdt.ErrInvalid, r.NS, r.Key)
		case revoker != r.Version.Origin:
			return fmt.Errorf("%w: %s/%s written by %s: a device revokes only in its own name", crdt.ErrInvalid, r.NS, r.Key, r.Version.Origin)
		case device == revoker:
			return fmt.Errorf("%w: %s/%s: a device cannot revoke itself", crdt.ErrInvalid, r.NS, r.Key)
		}
		_, err := decodeRevocation(r)
		return err
	}
	return nil
}

func decodeAnnouncement(r crdt.Record) (Announcement, error) {
	var a Announcement
	if err := decodeLive(r, &a); err != nil {
		return a, err
	}
	if err := ValidateName(a.Name); err != nil {
		return a, fmt.Errorf("%s/%s: %w", r.NS, r.Key, err)
	}
	return a, nil
}

func decodeRevocation(r crdt.Record) (Revocation, error) {
	var v Revocation
	if err := decodeLive(r, &v); err != nil {
		return v, err
	}
	if v.Name != "" {
		if err := ValidateName(v.Name); err != nil {
			return v, fmt.Errorf("%s/%s: %w", r.NS, r.Key, err)
		}
	}
	return v, nil
}

// decodeLive decodes the JSON value of a record that must not be a
// tombstone: membership records are never deleted.
func decodeLive(r crdt.Record, v any) error {
	if r.Deleted {
		return fmt.Errorf("%w: %s/%s: membership records cannot be deleted", crdt.ErrInvalid, r.NS, r.Key)
	}
	if err := json.Unmarshal(r.Value, v); err != nil {
		return fmt.Errorf("%w: %s/%s: %v", crdt.ErrInvalid, r.NS, r.Key, err)
	}
	return nil
}

// encode returns the JSON value of an announcement or revocation.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("membership: encode %T: %v", v, err)) // plain structs always encode
	}
	return b
}

// AnnouncementValue and RevocationValue are the record values a node
// writes under DevicesNS and RevokedNS.
func AnnouncementValue(a Announcement) []byte { return encode(a) }
func RevocationValue(v Revocation) []byte     { return encode(v) }
