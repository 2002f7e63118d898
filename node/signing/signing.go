// Package signing signs records with their origin device's libp2p key and
// checks those signatures. GossipSub's strict signing proves only who
// forwarded a message; a record's own signature still proves who wrote it
// after it travels through anti-entropy or the relay.
//
// The origin of a record is its writer's peer ID, and an Ed25519 peer ID
// holds its public key, so anyone can check a signature without a key
// directory.
package signing

import (
	"errors"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// Errors Verify wraps; both wrap crdt.ErrInvalid.
var (
	ErrUnsigned = fmt.Errorf("%w: record is not signed by its origin", crdt.ErrInvalid)
	ErrForged   = fmt.Errorf("%w: record signature does not match its origin (forged or tampered with)", crdt.ErrInvalid)
)

// Signer returns a store.Options.Sign function signing with key.
func Signer(key crypto.PrivKey) func(crdt.Record) ([]byte, error) {
	return func(r crdt.Record) ([]byte, error) {
		sig, err := key.Sign(crdt.SigningBytes(r))
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		return sig, nil
	}
}

// maxKeys bounds the public keys a Verifier remembers.
const maxKeys = 4096

// Verifier checks record signatures, remembering origins' public keys and
// the signatures it verified lately. It is safe for concurrent use.
type Verifier struct {
	mu       sync.Mutex
	keys     map[crdt.NodeID]crypto.PubKey
	verified verifiedSet
}

// NewVerifier returns an empty Verifier.
func NewVerifier() *Verifier { return &Verifier{keys: map[crdt.NodeID]crypto.PubKey{}} }

// Present reports whether r carries a signature at all, for a record whose
// origin is proven otherwise: see node's use for gossip.
func Present(r crdt.Record) error {
	if len(r.Sig) == 0 {
		return fmt.Errorf("%s/%s by %s: %w", r.NS, r.Key, r.Version.Origin, ErrUnsigned)
	}
	return nil
}

// Vouched accepts r, whose origin is proven by other means (see node's use
// for gossip), if it carries a signature at all, and remembers it as
// accepted: a copy of it that arrives later by anti-entropy then costs a
// hash, not a check.
func (v *Verifier) Vouched(r crdt.Record) error {
	if err := Present(r); err != nil {
		return err
	}
	v.verified.add(verifiedDigest(crdt.SigningBytes(r), r.Sig))
	return nil
}

// Verify reports whether r carries a valid signature of its origin.
func (v *Verifier) Verify(r crdt.Record) error {
	if err := Present(r); err != nil {
		return err
	}
	signed := crdt.SigningBytes(r)
	d := verifiedDigest(signed, r.Sig)
	if v.verified.has(d) {
		return nil
	}
	pub, err := v.key(r.Version.Origin)
	if err != nil {
		return fmt.Errorf("%s/%s: %w: %w", r.NS, r.Key, ErrForged, err)
	}
	ok, err := pub.Verify(signed, r.Sig)
	if err != nil || !ok {
		return fmt.Errorf("%s/%s by %s: %w", r.NS, r.Key, r.Version.Origin, ErrForged)
	}
	v.verified.add(d)
	return nil
}

func (v *Verifier) key(origin crdt.NodeID) (crypto.PubKey, error) {
	v.mu.Lock()
	pub, ok := v.keys[origin]
	v.mu.Unlock()
	if ok {
		return pub, nil
	}
	id, err := peer.Decode(string(origin))
	if err != nil {
		return nil, fmt.Errorf("origin is not a peer ID: %w", err)
	}
	if id.String() != string(origin) {
		// libp2p also parses a CID form of the same ID: one device
		// would pass for two, and a revocation of one miss the other.
		return nil, errors.New("origin is not in the canonical form of its peer ID")
	}
	pub, err = id.ExtractPublicKey()
	if err != nil {
		return nil, errors.New("origin's peer ID does not hold its public key")
	}
	v.mu.Lock()
	if len(v.keys) >= maxKeys {
		clear(v.keys)
	}
	v.keys[origin] = pub
	v.mu.Unlock()
	return pub, nil
}
