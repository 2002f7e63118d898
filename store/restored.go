package store

import (
	"context"
	"errors"
	"fmt"
)

// ErrRestored refuses a local write to a store restored from a backup until
// it has synced with a peer. The backup may predate local writes that peers
// still hold, so the store's own seq counter may be behind them; syncing
// brings those writes back and raises the counter, so that no (origin, seq)
// is ever issued twice.
var ErrRestored = errors.New("restored from a backup: local writes wait for the first sync with a peer")

// Restored reports whether the store was restored from a backup and still
// refuses local writes (Put, Delete, WriteAll) with ErrRestored. Apply and
// Join work as usual.
func (s *Store) Restored() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.committed.restored
}

// ClearRestored durably lifts the restored marker, allowing local writes
// again. Call it once a sync with a peer has completed. It does nothing on
// a store that is not marked.
func (s *Store) ClearRestored(ctx context.Context) error {
	if err := s.submit(ctx, &op{clearRestored: true}); err != nil {
		return fmt.Errorf("store clear restored: %w", err)
	}
	return nil
}
