package httpsync

import (
	"context"
	"log/slog"

	"github.com/syncnode/syncnode/store"
)

// Config configures NewHandler. Auth and Store are required; a nil or zero
// optional field takes its default.
type Config struct {
	// Auth checks tokens. Required.
	Auth Auth
	// Store holds the records. Required.
	Store Store
	// Clients keeps per-client resync marks and cursors; nil means no
	// client is ever marked and cursors are not recorded.
	Clients Clients
	// GC reports tombstone collection; nil means none was collected.
	GC GC
	// MaxBodyBytes bounds a request body; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives failures; nil means slog.Default(). Tokens and
	// record values are never logged.
	Logger *slog.Logger
}

// Store is the relay's replica as the sync handler uses it; *store.Store
// implements it. All methods are called concurrently.
type Store interface {
	// WriteAll durably applies ws in order, one result per write; see
	// (*store.Store).WriteAll. The error is a store failure, not a
	// rejection.
	WriteAll(ctx context.Context, ws []store.Write) ([]store.WriteResult, error)
	// Changes returns up to limit changes after feed position since, oldest
	// first; ns "" means every namespace.
	Changes(since uint64, ns string, limit int) ([]store.Change, uint64, error)
	// Stats returns counters, among them the feed head.
	Stats() store.Stats
	// SkippedByRestore reports whether feed position pos was skipped by a
	// restore of the relay from a backup, and the backup's head if so; see
	// (*store.Store).SkippedByRestore.
	SkippedByRestore(pos uint64) (backupHead uint64, ok bool)
}

// Clients keeps what the relay knows about each thin client. All methods
// are called concurrently and should not block for long.
type Clients interface {
	// NeedsResync reports whether client must pull again from since=0
	// before its cursor is trusted; false for an unknown client.
	NeedsResync(client string) bool
	// ClearResync removes the mark once client has pulled from since=0.
	ClearResync(client string) error
	// Ack records cursor as the feed position client confirms having.
	Ack(client string, cursor uint64) error
}

// GC reports how far the relay's tombstone collection has gone.
type GC interface {
	// Floor returns the highest feed position of a tombstone collected so
	// far, 0 if none. A client whose cursor is below it may have missed a
	// deletion. Called concurrently; it must not block.
	Floor() uint64
}

// noClients is the Clients of a Config that names none.
type noClients struct{}

func (noClients) NeedsResync(string) bool  { return false }
func (noClients) ClearResync(string) error { return nil }
func (noClients) Ack(string, uint64) error { return nil }

// noGC is the GC of a Config that names none.
type noGC struct{}

func (noGC) Floor() uint64 { return 0 }

var (
	_ Store   = (*store.Store)(nil)
	_ Clients = noClients{}
	_ GC      = noGC{}
)
