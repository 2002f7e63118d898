package store

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Sentinel errors.
var (
	// ErrNotFound means no record, live or deleted, exists for the key.
	ErrNotFound = errors.New("record not found")
	// ErrClosed is returned by operations on a closed Store.
	ErrClosed = errors.New("store closed")
	// ErrCorrupt means stored bytes could not be decoded.
	ErrCorrupt = errors.New("store corrupt")
	// ErrLocked means another process has the store open.
	ErrLocked = errors.New("store is in use by another process (is a syncnode already running on this data dir?)")
)

// Options configure a Store. Zero fields take the documented defaults.
type Options struct {
	// Dir is the Badger directory. Ignored when InMemory is set.
	Dir string
	// InMemory keeps everything in memory; for tests and the testnet only,
	// since nothing survives Close. Badger then holds each record in one
	// entry of at most 1 MiB (7.5% of MemTableSize if that is less), so a
	// record too big for it is refused with crdt.ErrInvalid: with the
	// default memtable, a value within a few hundred bytes of
	// crdt.MaxValueSize.
	InMemory bool
	// Origin is this node's ID; it stamps every local write. Required.
	Origin crdt.NodeID
	// Clock reads physical time; nil means crdt.WallClock.
	Clock crdt.PhysicalClock
	// MaxSkew bounds how far ahead a remote stamp may be; zero means
	// crdt.DefaultMaxSkew.
	MaxSkew time.Duration
	// MemTableSize is Badger's memtable size in bytes; zero means 8 MiB on
	// disk and 16 MiB in memory.
	// The testnet lowers it to run many stores in one process.
	MemTableSize int64
	// BlockCacheSize is Badger's block cache in bytes; zero means 64 MiB.
	BlockCacheSize int64
	// Seal, if set, transforms the value of every local write once its
	// version is known, before it is stored: a device seals values end to
	// end (see node/seal), binding the version. It must be fast, and its
	// result at most seal.SealedSize of its input. Remote records and
	// WriteAll are stored as they come.
	Seal func(ns, key string, v crdt.Version, value []byte) ([]byte, error)
	// Sign, if set, signs every local write (WriteAll's too) once sealed:
	// a node signs with its identity key (see node/signing).
	Sign func(crdt.Record) ([]byte, error)
	// Logger receives store events; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a node's durable replica. All methods are safe for concurrent
// use. Writes return only after their data is fsynced.
type Store struct {
	db     *badger.DB
	origin crdt.NodeID
	seal   func(ns, key string, v crdt.Version, value []byte) ([]byte, error)
	sign   func(crdt.Record) ([]byte, error)
	clock  *crdt.Clock
	log    *slog.Logger
	limits txnLimits
	reads  *readGate

	ops       chan *op
	closing   chan struct{}
	done      chan struct{}
	gcDone    chan struct{} // closed when valueLogLoop has stopped
	closeOnce sync.Once
	closeErr  error

	// frontier is owned by the commit loop. Unlike the published vector it
	// remembers writes held beyond a gap, across commits.
	frontier *crdt.Frontier

	mu        sync.RWMutex // guards committed and notify
	committed state
	notify    chan struct{}
}

// Open opens or creates the store described by opts and starts its commit
// loop.
func Open(opts Options) (*Store, error) {
	if opts.Origin == "" {
		return nil, errors.New("store open: origin is required")
	}
	if opts.Clock == nil {
		opts.Clock = crdt.WallClock
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	log := opts.Logger.With("component", "store")
	bo := badgerOptions(opts, log)
	db, err := badger.Open(bo)
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		// Badger has no sentinel for its directory lock.
		return nil, fmt.Errorf("store open %s: %w", opts.Dir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store open: %w", err)
	}
	if err := ensureFormat(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store open: %w", err)
	}
	st, hlc, err := loadState(db)
	if err == nil {
		err = raiseSelfSeq(db, &st, opts.Origin)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store open: %w", err)
	}
	s := &Store{
		db:        db,
		origin:    opts.Origin,
		seal:      opts.Seal,
		sign:      opts.Sign,
		clock:     crdt.NewClock(opts.Clock, opts.MaxSkew, hlc),
		log:       log,
		limits:    newTxnLimits(db, bo),
		reads:     newReadGate(),
		ops:       make(chan *op, 4096),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
		gcDone:    make(chan struct{}),
		frontier:  crdt.NewFrontier(st.vector),
		committed: st,
		notify:    make(chan struct{}),
	}
	go s.commitLoop()
	if opts.InMemory {
		close(s.gcDone) // no value log
	} else {
		go s.valueLogLoop()
	}
	return s, nil
}

func badgerOptions(opts Options, log *slog.Logger) badger.Options {
	bo := badger.DefaultOptions(opts.Dir)
	if opts.InMemory {
		bo = badger.DefaultOptions("").WithInMemory(true)
	}
	memtable, cache := opts.MemTableSize, opts.BlockCacheSize
	switch {
	case memtable > 0:
	case opts.InMemory:
		// Its entries must fit 7.5% of it (see InMemory): 16 MiB holds a
		// record of crdt.MaxValueSize.
		memtable = 16 << 20
	default:
		// Large records go to the value log, so memtables hold keys,
		// pointers and small records: 8 MiB keeps a device's memory low
		// during a large catch-up.
		memtable = 8 << 20
	}
	if cache <= 0 {
		cache = 64 << 20
	}
	if !opts.InMemory {
		// An in-memory Badger has no value log: its threshold bounds the
		// entries it takes, so it keeps the default.
		bo = bo.WithValueThreshold(valueLogThreshold).WithValueLogFileSize(valueLogFileSize)
	}
	return bo.
		WithSyncWrites(!opts.InMemory).
		// One goroutine commits; conflict tracking would only cost time.
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(memtable).
		// Badger keeps up to five full memtables by default; two bound a
		// device's memory during a large catch-up at little cost in speed.
		WithNumMemtables(2).
		WithBlockCacheSize(cache).
		WithNumCompactors(2).
		WithLogger(badgerLogger{log})
}

// Origin returns the ID that stamps local writes.
func (s *Store) Origin() crdt.NodeID { return s.origin }

// Clock returns the store's hybrid logical clock. Peers' stamps are checked
// against it before they are applied.
func (s *Store) Clock() *crdt.Clock { return s.clock }

// Close stops the commit loop, failing queued operations with ErrClosed,
// waits for reads in progress and for open snapshots to be closed, and
// closes Badger. Every later operation returns ErrClosed. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.done
		<-s.gcDone
		s.reads.close()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store close: %w", err)
		}
	})
	return s.closeErr
}

// Vector returns the contiguous version vector of committed writes.
func (s *Store) Vector() crdt.Vector {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.vector.Clone()
}

// Gaps reports whether some origin has committed writes beyond a missing
// seq, which only anti-entropy or late gossip can fill.
func (s *Store) Gaps() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.held != nil
}

// Seen reports whether a write of version v was merged here before,
// applied or superseded. Apply counts any record of such a version as
// stale whatever it holds (a version is merged once), so a caller may skip
// checking one, a signature above all, before applying it.
func (s *Store) Seen(v crdt.Version) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.vector.Covers(v.Origin, v.Seq) || s.committed.held.Has(v.Origin, v.Seq)
}

// MaxHeldRuns bounds the runs Held reports, so that its copy on every
// commit, and the anti-entropy request that carries it, stay small.
const MaxHeldRuns = 1024

// Held returns the committed writes held beyond gaps (see crdt.Held), at
// most MaxHeldRuns runs; nil if there are none. The caller must not modify
// it.
func (s *Store) Held() crdt.Held {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.held
}

// Digest returns the state digest of committed records.
func (s *Store) Digest() crdt.Digest {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.digest
}

// Stats describes a store's contents.
type Stats struct {
	Live       int64 // records holding a value
	Tombstones int64 // deleted records still remembered
	FeedHead   uint64
	Digest     crdt.Digest
	Vector     crdt.Vector
}

// Stats returns counters for status reports.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.committed
	return Stats{Live: c.live, Tombstones: c.dead, FeedHead: c.feedHead, Digest: c.digest, Vector: c.vector.Clone()}
}

// enterRead admits a read, a snapshot or a backup unless the store is
// closing: Close refuses new work at once, though it waits for the work it
// admitted. The caller must call s.reads.leave once done.
func (s *Store) enterRead() bool {
	select {
	case <-s.closing:
		return false
	default:
		return s.reads.enter()
	}
}

// view runs fn in a read-only transaction unless the store is closed.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	if !s.enterRead() {
		return ErrClosed
	}
	defer s.reads.leave()
	return s.db.View(fn)
}

// Changed returns a channel that is closed at the next commit that changes
// any record. Take a fresh channel after each wake-up.
func (s *Store) Changed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.notify
}

// badgerLogger routes Badger's logging into slog, keeping only warnings and
// errors, which is all an operator needs from the storage engine.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any)   { l.log.Error(fmt.Sprintf(f, a...)) }
func (l badgerLogger) Warningf(f string, a ...any) { l.log.Warn(fmt.Sprintf(f, a...)) }
func (badgerLogger) Infof(string, ...any)          {}
func (badgerLogger) Debugf(string, ...any)         {}
