package registry

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/node/datadir"
)

var (
	// ErrExists is returned by Create for a name already in the registry,
	// revoked or not.
	ErrExists = errors.New("device name already exists")
	// ErrUnknown is returned for a device name not in the registry.
	ErrUnknown = errors.New("unknown device")
	// ErrBadName is returned by Create for a name outside the allowed set.
	ErrBadName = errors.New("invalid device name")
	// ErrBadToken is returned for a token that is malformed, unknown or
	// wrong. It never says which.
	ErrBadToken = errors.New("invalid token")
	// ErrRevoked is returned for a correct token, or a device, that has
	// been revoked.
	ErrRevoked = errors.New("device is revoked")
	// ErrExpired is returned for a correct token, or a device, whose
	// expiry has passed.
	ErrExpired = errors.New("device token has expired")
	// ErrTokenInUse is returned by Pair when the token is already bound to
	// another peer.
	ErrTokenInUse = errors.New("token is already paired with another peer")
	// ErrPeerInUse is returned by Pair when the peer is already bound to
	// another device, revoked or not: a peer ID pairs at most once.
	ErrPeerInUse = errors.New("peer is already paired with another device")
	// ErrBadAck is returned by Ack for a vector with an invalid origin.
	ErrBadAck = errors.New("invalid acknowledged vector")
	// ErrTooLarge is returned by a mutation that would make the registry
	// file larger than its limit; nothing is changed.
	ErrTooLarge = errors.New("registry file too large")
)

// Registry is the relay's set of devices, persisted in one JSON file that
// holds no token, only argon2id hashes. Every mutation is on disk before it
// returns and takes effect in memory only once it is. Lookups by peer are
// in-memory map reads that never wait for a file write.
//
// A Registry is safe for concurrent use. Only one Registry, in one process,
// may use a file at a time.
type Registry struct {
	dir  *datadir.Dir
	file string
	now  func() time.Time

	// hash and params are fixed after Open; tests lower the cost.
	hash   hashFunc
	params kdfParams
	// dummy is verified against, with r.params, for an unknown id, so that
	// the cost of an attempt does not reveal whether its id exists.
	dummy credential
	// slots bounds concurrent hash runs.
	slots chan struct{}

	// wmu serializes mutations and file writes. A mutator holding it may
	// read the maps without mu, since only mutators change them.
	wmu sync.Mutex

	mu     sync.RWMutex
	byName map[string]*entry
	byID   map[string]*entry
	byPeer map[peer.ID]*entry
	// cache maps an id to the SHA-256 of its token once verified, so that
	// a client presenting it on every request pays argon2id once.
	cache    map[string][sha256.Size]byte
	onRevoke []func(Device)
}

// Open loads the registry file at path, creating an empty one (mode 0600) if
// it does not exist; its directory must. now is the clock; nil means
// time.Now.
func Open(path string, now func() time.Time) (*Registry, error) {
	if now == nil {
		now = time.Now
	}
	r := &Registry{
		dir:    &datadir.Dir{Path: filepath.Dir(path)},
		file:   filepath.Base(path),
		now:    now,
		hash:   argon2ID,
		params: defaultParams,
		dummy:  credential{salt: randomBytes(saltSize), hash: randomBytes(int(defaultParams.KeyLen))},
		slots:  make(chan struct{}, runtime.GOMAXPROCS(0)),
		byName: map[string]*entry{},
		byID:   map[string]*entry{},
		byPeer: map[peer.ID]*entry{},
		cache:  map[string][sha256.Size]byte{},
	}
	data, err := r.dir.ReadFile(r.file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := r.persist(nil); err != nil {
			return nil, fmt.Errorf("registry open: %w", err)
		}
		return r, nil
	case err != nil:
		return nil, fmt.Errorf("registry open: %w", err)
	}
	entries, err := decodeFile(data)
	if err != nil {
		return nil, fmt.Errorf("registry open %s: %w", path, err)
	}
	for _, e := range entries {
		r.put(e)
	}
	return r, nil
}

// Create issues a token for a new device called name and returns it. The
// token is returned only here: the registry keeps its hash alone.
func (r *Registry) Create(name string) (string, error) { return r.CreateUntil(name, time.Time{}) }

// CreateUntil is Create for a token that expires at expires (zero: never).
func (r *Registry) CreateUntil(name string, expires time.Time) (string, error) {
	if err := validateName(name); err != nil {
		return "", fmt.Errorf("registry create: %w", err)
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.byName[name] != nil {
		return "", fmt.Errorf("registry create %q: %w", name, ErrExists)
	}
	token, id, secret := newToken()
	for r.byID[id] != nil {
		token, id, secret = newToken()
	}
	c := credential{id: id, salt: randomBytes(saltSize), params: r.params}
	c.hash = r.derive(secret, c)
	e := &entry{Device: Device{Name: name, Created: r.now(), Expires: expires}, cred: c}
	if err := r.commit(e); err != nil {
		return "", fmt.Errorf("registry create %q: %w", name, err)
	}
	return token, nil
}

// List returns every device, revoked ones included, sorted by name.
func (r *Registry) List() []Device {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Device, 0, len(r.byName))
	for _, e := range r.byName {
		out = append(out, e.Device.clone())
	}
	slices.SortFunc(out, func(a, b Device) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Revoke revokes the named device: its token stops authenticating and its
// peer stops being admitted as soon as Revoke returns, after which every
// OnRevoke function is called. Revoking a revoked device changes nothing
// and calls nothing.
func (r *Registry) Revoke(name string) (Device, error) {
	e, changed, err := r.update(name, func(next *entry) (bool, error) {
		if next.Revoked {
			return false, nil
		}
		next.Revoked, next.RevokedAt = true, r.now()
		return true, nil
	})
	if err != nil {
		return Device{}, fmt.Errorf("registry revoke %q: %w", name, err)
	}
	if changed {
		r.mu.RLock()
		hooks := slices.Clone(r.onRevoke)
		r.mu.RUnlock()
		for _, fn := range hooks {
			fn(e.Device.clone())
		}
	}
	return e.Device.clone(), nil
}

// OnRevoke registers fn to be called, synchronously in Revoke's goroutine
// and with no lock held, after each revocation is persisted. The relay uses
// it to close the device's connections at once.
func (r *Registry) OnRevoke(fn func(Device)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onRevoke = append(r.onRevoke, fn)
}

// update applies change to a copy of the named device and, if change
// reports a change, persists and installs the copy. It returns the device's
// entry as it now stands.
func (r *Registry) update(name string, change func(next *entry) (bool, error)) (e *entry, changed bool, err error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	cur := r.byName[name]
	if cur == nil {
		return nil, false, ErrUnknown
	}
	next := cur.clone()
	changed, err = change(next)
	if err != nil || !changed {
		return cur, false, err
	}
	if err := r.commit(next); err != nil {
		return nil, false, err
	}
	return next, true, nil
}

// commit persists the registry with changed in place of the entries of the
// same names (or added), then installs them. r.wmu must be held. On error
// nothing changes.
func (r *Registry) commit(changed ...*entry) error {
	all := make([]*entry, 0, len(r.byName)+len(changed))
	for _, e := range r.byName {
		if !slices.ContainsFunc(changed, func(c *entry) bool { return c.Name == e.Name }) {
			all = append(all, e)
		}
	}
	all = append(all, changed...)
	if err := r.persist(all); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range changed {
		r.put(e)
	}
	return nil
}

// put installs e. r.mu must be held for writing, or r not yet shared.
func (r *Registry) put(e *entry) {
	r.byName[e.Name] = e
	r.byID[e.cred.id] = e
	if e.Peer != "" {
		r.byPeer[e.Peer] = e
	}
	if e.Revoked {
		delete(r.cache, e.cred.id)
	}
}

// persist writes entries, sorted by name, as the registry file.
func (r *Registry) persist(entries []*entry) error {
	slices.SortFunc(entries, func(a, b *entry) int { return strings.Compare(a.Name, b.Name) })
	data, err := encodeFile(entries)
	if err != nil {
		return err
	}
	return r.dir.WriteFile(r.file, data)
}
