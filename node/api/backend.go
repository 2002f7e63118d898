package api

import (
	"context"
	"io"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// Backend is what the API serves. *node.Node implements it. All methods must
// be safe for concurrent use.
type Backend interface {
	// Put durably writes value, one compact JSON document, under (ns, key)
	// and returns the new version. Invalid input wraps crdt.ErrInvalid.
	Put(ctx context.Context, ns, key string, value []byte) (crdt.Version, error)
	// Delete durably writes a tombstone for (ns, key), even for a key never
	// seen here.
	Delete(ctx context.Context, ns, key string) (crdt.Version, error)
	// Get returns the current record, which may be a tombstone (Deleted
	// set), or an error wrapping store.ErrNotFound if the key was never
	// written.
	Get(ns, key string) (crdt.Record, error)
	// List returns up to limit live records of ns whose keys start with
	// prefix and sort after after, in key order; more reports whether
	// further records follow.
	List(ns, prefix, after string, limit int) (recs []crdt.Record, more bool, err error)
	// Changes returns up to limit feed entries after position since, oldest
	// first, tombstones included, only of ns unless ns is empty; next is the
	// position to pass as since for the following call. It never blocks.
	Changes(since uint64, ns string, limit int) (changes []store.Change, next uint64, err error)
	// Head returns the feed position of the latest change (0 if none), the
	// cursor from which only later changes are seen.
	Head() uint64
	// Changed returns a channel closed at the next commit that changes a
	// record. Callers take a fresh channel after each wake-up.
	Changed() <-chan struct{}
	// Status describes the node. It may talk to peers, bounded by ctx.
	Status(ctx context.Context) (Status, error)
	// Peers lists the peers the node knows. It may talk to them, bounded by
	// ctx.
	Peers(ctx context.Context) ([]Peer, error)
	// Devices lists the group's devices as the node knows them.
	Devices() []Device
	// Revoke revokes a device, by name or ID, for the whole group, and
	// returns it. Errors wrap membership.ErrUnknownDevice,
	// ErrAmbiguousDevice, ErrRevokesItself or ErrSelfRevoked when the
	// request cannot be met.
	Revoke(ctx context.Context, nameOrID string) (Device, error)
	// Backup writes a consistent full backup of the store to w and returns
	// the bytes written. It blocks until the backup is written or w fails;
	// writes may continue meanwhile.
	Backup(w io.Writer) (int64, error)
	// Invite issues a single-use join code valid for ttl (invite.MinTTL to
	// invite.MaxTTL) and returns it with its expiry. It fails with
	// ErrCannotInvite on a node without the group secret (a relay), and
	// with an error wrapping invite.ErrTooManyPending when too many invites
	// are pending.
	Invite(ctx context.Context, ttl time.Duration) (Invite, error)
}
