package registry

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// Authenticate returns the device a token belongs to. It fails with
// ErrBadToken for a malformed, unknown or wrong token, and with ErrRevoked
// for the correct token of a revoked device.
//
// A token not yet verified costs exactly one argon2id run, also when its id
// is unknown, so timing does not reveal which ids exist; a malformed one
// costs none. A verified token is remembered, by its SHA-256, until the
// device is revoked, so a client presenting it on every request pays
// argon2id once. Callers should rate-limit failures per source before
// calling (see node/ratelimit).
func (r *Registry) Authenticate(token string) (Device, error) {
	id, secret, err := parseToken(token)
	if err != nil {
		return Device{}, fmt.Errorf("registry authenticate: %w", err)
	}
	digest := sha256.Sum256([]byte(token))

	r.mu.RLock()
	e := r.byID[id]
	known, cached := r.cache[id]
	r.mu.RUnlock()
	if cached && subtle.ConstantTimeCompare(known[:], digest[:]) == 1 {
		return e.Device.clone(), nil
	}

	c := r.dummy
	c.params = r.params
	if e != nil {
		c = e.cred
	}
	if !r.verify(secret, c) || e == nil {
		return Device{}, fmt.Errorf("registry authenticate: %w", ErrBadToken)
	}

	// Credentials never change, but the device may have been revoked while
	// the hash ran: decide on its current state.
	r.mu.Lock()
	defer r.mu.Unlock()
	e = r.byID[id]
	if e.Revoked {
		return Device{}, fmt.Errorf("registry authenticate %q: %w", e.Name, ErrRevoked)
	}
	r.cache[id] = digest
	return e.Device.clone(), nil
}
