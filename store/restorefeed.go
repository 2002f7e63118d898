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
// from the same backup before, can have reached it, as long as the
// restoring machine's clock is not behind the one that restored before.
// The skipped ranges are kept, the last maxFeedGaps of them across restores
// of restores (SkippedByRestore): a cursor inside one was handed out by a
// store this one replaced.
const (
	restoreFeedMargin = 1 << 30
	// maxFeedHead keeps feed positions exact in any JSON reader, with
	// room to spare.
	maxFeedHead = 1<<53 - 1<<40
	// maxFeedGaps bounds the skipped ranges kept.
	maxFeedGaps = 64
)

// metaFeedGaps holds the ranges restores skipped, oldest first, each
// lo(8) ∥ hi(8).
var metaFeedGaps = []byte{tagMeta, 'G'}

// feedGap is a range of feed positions a restore skipped: positions up to
// lo were the backup's, and those above lo and below hi were never handed
// out by this store.
type feedGap struct{ lo, hi uint64 }

// resumeFeed moves a restored store's feed head past every position a
// reader may hold (see above), at now, and records the range it skipped.
func resumeFeed(txn *badger.Txn, now time.Time) error {
	var head uint64
	if err := getU64(txn, metaFeedHead, &head); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	if head > maxFeedHead-restoreFeedMargin {
		return fmt.Errorf("%w: feed head %d is past what cursors can hold", ErrBadBackup, head)
	}
	gaps, err := loadFeedGaps(txn)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	next := max(head+restoreFeedMargin, uint64(max(now.UnixMicro(), 0)))
	gaps = append(gaps, feedGap{head, next})
	gaps = gaps[max(len(gaps)-maxFeedGaps, 0):]
	var b []byte
	for _, g := range gaps {
		b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b, g.lo), g.hi)
	}
	if err := txn.Set(metaFeedHead, u64(next)); err != nil {
		return err
	}
	return txn.Set(metaFeedGaps, b)
}

// loadFeedGaps reads the ranges restores skipped, oldest first.
func loadFeedGaps(txn *badger.Txn) ([]feedGap, error) {
	item, err := txn.Get(metaFeedGaps)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	if len(b)%16 != 0 || len(b) > 16*maxFeedGaps {
		return nil, fmt.Errorf("%w: feed gaps of %d bytes", ErrCorrupt, len(b))
	}
	gaps := make([]feedGap, 0, len(b)/16)
	for ; len(b) > 0; b = b[16:] {
		g := feedGap{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
		if g.lo >= g.hi || len(gaps) > 0 && g.lo < gaps[len(gaps)-1].hi {
			return nil, fmt.Errorf("%w: feed gap %d..%d", ErrCorrupt, g.lo, g.hi)
		}
		gaps = append(gaps, g)
	}
	return gaps, nil
}

// SkippedByRestore reports whether feed position pos lies in a range a
// restore of this store skipped, and if so, the head of the backup that
// restore started from. Such a position, held as a cursor, was handed out
// by a store this one replaced, whose changes after that head this one may
// never have held.
func (s *Store) SkippedByRestore(pos uint64) (backupHead uint64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, g := range s.committed.gaps {
		if pos > g.lo && pos < g.hi {
			return g.lo, true
		}
	}
	return 0, false
}
