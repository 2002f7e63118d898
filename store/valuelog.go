package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Value-log collection: every valueLogGCInterval an on-disk store rewrites
// the value-log files of which at least valueLogGCRatio is garbage (records
// since replaced, deleted or collected), so the disk a store uses follows
// what it holds. Badger never does this by itself.
const (
	valueLogGCInterval = 10 * time.Minute
	valueLogGCRatio    = 0.5
)

// valueLogLoop collects the value log periodically until the store closes.
func (s *Store) valueLogLoop() {
	defer close(s.gcDone)
	t := time.NewTicker(valueLogGCInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			if n, err := s.collectValueLog(); err != nil {
				s.log.Error("value log collection failed", "err", err)
			} else if n > 0 {
				s.log.Info("value log collected", "files", n)
			}
		}
	}
}

// collectValueLog rewrites value-log files while one is worth it and
// returns how many it rewrote.
func (s *Store) collectValueLog() (int, error) {
	n := 0
	for {
		select {
		case <-s.closing:
			return n, nil
		default:
		}
		err := s.db.RunValueLogGC(valueLogGCRatio)
		switch {
		case err == nil:
			n++
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return n, nil
		default:
			return n, fmt.Errorf("store value log gc: %w", err)
		}
	}
}
