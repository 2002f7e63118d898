package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Durability. A write this store acknowledges (Put, Delete, WriteAll,
// DropAfter) is on disk before it returns: its commit is fsynced, and with
// it everything committed before. Records merged from peers (Apply, Refill,
// Join) are not waited for: their origin holds them durably already, and
// syncing each gossip message was most of what replicating a record cost.
// They reach disk with the next acknowledged write, or at the latest
// maxUnsyncedAge after their commit, or once maxUnsyncedPositions feed
// positions wait.
//
// A power loss or OS crash can therefore lose what peers sent in the last
// moments before it. Badger recovers a prefix of its commits, and the
// version vector commits with the records, so the store then simply lacks
// them, and its next pull fetches them again. What it must not do is hand
// out a lost feed position a second time: a reader holding that position as
// its cursor would skip the change that reused it. The store therefore
// marks itself open while it runs; finding the mark at Open means the last
// run did not close, and the feed head moves past every position that run
// may have handed out and lost.
const (
	maxUnsyncedAge       = time.Second
	maxUnsyncedPositions = 1 << 15
	// uncleanHeadJump exceeds maxUnsyncedPositions plus the positions of
	// one commit, which Badger's transaction limits keep far below it.
	uncleanHeadJump = 1 << 20
)

// metaOpen is present while the store is open (see markOpen).
var metaOpen = []byte{tagMeta, 'O'}

// syncer decides when the commit loop fsyncs, and does it. It is owned by
// the commit loop.
type syncer struct {
	db     *badger.DB // nil for an in-memory store: nothing to sync
	synced uint64     // feed head at the last sync
	dirty  time.Time  // commit time of the oldest unsynced commit; zero if none
}

// committed records that a commit, acknowledged or not, reached Badger at
// now.
func (y *syncer) committed(now time.Time) {
	if y.db != nil && y.dirty.IsZero() {
		y.dirty = now
	}
}

// due reports whether to sync now: unsynced commits wait and an
// acknowledged write needs them on disk, or they have waited long enough,
// or they hold enough feed positions, up to head.
func (y *syncer) due(acked bool, head uint64, now time.Time) bool {
	if y.dirty.IsZero() {
		return false
	}
	return acked || now.Sub(y.dirty) >= maxUnsyncedAge || head-y.synced >= maxUnsyncedPositions
}

// wait returns how long the idle commit loop may wait before it must sync,
// and false if nothing waits to be synced.
func (y *syncer) wait(now time.Time) (time.Duration, bool) {
	if y.dirty.IsZero() {
		return 0, false
	}
	return max(maxUnsyncedAge-now.Sub(y.dirty), 0), true
}

// sync fsyncs every commit so far, which left the feed at head.
func (y *syncer) sync(head uint64) error {
	if err := y.db.Sync(); err != nil {
		return fmt.Errorf("store sync: %w", err)
	}
	y.synced, y.dirty = head, time.Time{}
	return nil
}

// markOpen marks db open, first moving st's feed head past what an unclean
// end of the last run may have lost (see Durability above).
func markOpen(db *badger.DB, st *state) error {
	err := db.Update(func(txn *badger.Txn) error {
		_, err := txn.Get(metaOpen)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			st.feedHead += uncleanHeadJump
			if err := txn.Set(metaFeedHead, u64(st.feedHead)); err != nil {
				return err
			}
		}
		return txn.Set(metaOpen, nil)
	})
	if err != nil {
		return fmt.Errorf("mark open: %w", err)
	}
	if err := db.Sync(); err != nil {
		return fmt.Errorf("mark open: %w", err)
	}
	return nil
}

// markClosed lifts the open mark once every commit is done; Badger's Close
// then writes it out with the rest.
func markClosed(db *badger.DB) error {
	if err := db.Update(func(txn *badger.Txn) error { return txn.Delete(metaOpen) }); err != nil {
		return fmt.Errorf("mark closed: %w", err)
	}
	return nil
}

// DurableVector returns the store's vector once every write it counts is on
// disk: what a node may tell a peer it holds for good. A peer that
// collects tombstones relies on it.
func (s *Store) DurableVector(ctx context.Context) (crdt.Vector, error) {
	v := s.Vector()
	if err := s.submit(ctx, &op{flush: true}); err != nil {
		return nil, err
	}
	return v, nil
}
