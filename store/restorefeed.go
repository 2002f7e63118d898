package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Where a restored store's change feed resumes. The store a backup came
// from may have handed out feed positions beyond the backup's head before
// it was lost, and a reader may hold one as its cursor: an app on
// /v1/changes, a thin client's since. Had the restored store carried on
// from the backup's head, that reader would skip every change it later
// made at or below the cursor.
//
// The feed therefore resumes at the restore's time in microseconds, and at
// least restoreFeedMargin past the backup's head. No store hands out a
// million positions a second, so no earlier store, not even one restored
// from the same backup before, can have reached it. The skipped range is
// kept (FeedGap): a cursor inside it was handed out by the store this one
// replaced.
const (
	restoreFeedMargin = 1 << 30
	// maxFeedHead keeps feed positions exact in any JSON reader, with
	// room to spare.
	maxFeedHead = 1<<53 - 1<<40
)

// metaFeedGap holds the positions a restore skipped: lo(8) ∥ hi(8).
var metaFeedGap = []byte{tagMeta, 'G'}

// resumeFeed moves a restored store's feed head past every position a
// reader may hold (see above), at now, and records the gap.
func resumeFeed(txn *badger.Txn, now time.Time) error {
	var head uint64
	if err := getU64(txn, metaFeedHead, &head); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	if head > maxFeedHead-restoreFeedMargin {
		return fmt.Errorf("%w: feed head %d is past what cursors can hold", ErrBadBackup, head)
	}
	next := max(head+restoreFeedMargin, uint64(max(now.UnixMicro(), 0)))
	if err := txn.Set(metaFeedHead, u64(next)); err != nil {
		return err
	}
	return txn.Set(metaFeedGap, binary.BigEndian.AppendUint64(u64(head), next))
}

// loadFeedGap reads the gap the last restore left; zero if none.
func loadFeedGap(txn *badger.Txn) (lo, hi uint64, err error) {
	item, err := txn.Get(metaFeedGap)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return 0, 0, err
	}
	if len(b) != 16 {
		return 0, 0, fmt.Errorf("%w: feed gap of %d bytes", ErrCorrupt, len(b))
	}
	lo, hi = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
	if lo >= hi {
		return 0, 0, fmt.Errorf("%w: feed gap %d..%d", ErrCorrupt, lo, hi)
	}
	return lo, hi, nil
}

// FeedGap returns the feed positions the store's last restore skipped:
// positions up to lo are the backup's, and a cursor above lo and below hi
// was handed out by the store this one replaced, whose changes after lo it
// may never have held. ok is false if the store was never restored.
func (s *Store) FeedGap() (lo, hi uint64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.gapLo, s.committed.gapHi, s.committed.gapHi > 0
}
