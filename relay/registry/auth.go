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
	if d, ok := r.Remembered(token); ok {
		return d, nil
	}
	digest := sha256.Sum256([]byte(token))
	r.mu.RLock()
	e := r.byID[id]
	r.mu.RUnlock()

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
	if e.expiredAt(r.now()) {
		return Device{}, fmt.Errorf("registry authenticate %q: %w", e.Name, ErrExpired)
	}
	r.cache[id] = digest
	return e.Device.clone(), nil
}

// Remembered returns the device of a token verified before and not revoked
// since, at the cost of one SHA-256 and no argon2id: a caller may serve it
// ahead of rate limiting, so a good client is not locked out by a flood of
// bad tokens from its own address.
func (r *Registry) Remembered(token string) (Device, bool) {
	id, _, err := parseToken(token)
	if err != nil {
		return Device{}, false
	}
	digest := sha256.Sum256([]byte(token))
	r.mu.RLock()
	defer r.mu.RUnlock()
	known, ok := r.cache[id]
	if !ok || subtle.ConstantTimeCompare(known[:], digest[:]) != 1 {
		return Device{}, false
	}
	e := r.byID[id]
	if e.expiredAt(r.now()) {
		return Device{}, false
	}
	return e.Device.clone(), true
}
