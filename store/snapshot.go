package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Snapshot is a consistent, read-only view of the store. The vector it
// reports is exactly the one committed with the records it holds, which is
// what makes anti-entropy sound: every write the vector counts is either in
// the snapshot or superseded by a record that is. Close it when done: an open
// snapshot pins old data in memory, and the store's Close waits for it. A
// Snapshot is for one goroutine at a time.
type Snapshot struct {
	txn   *badger.Txn // nil if the store was closed
	reads *readGate
	done  bool
}

// Snapshot opens a consistent view. On a closed store, the view's methods
// return ErrClosed.
func (s *Store) Snapshot() *Snapshot {
	if !s.enterRead() {
		return &Snapshot{done: true}
	}
	return &Snapshot{txn: s.db.NewTransaction(false), reads: s.reads}
}

// Close releases the view. Later calls do nothing.
func (sn *Snapshot) Close() {
	if sn.done {
		return
	}
	sn.done = true
	sn.txn.Discard()
	sn.reads.leave()
}

// Vector returns the contiguous vector as of the snapshot.
func (sn *Snapshot) Vector() (crdt.Vector, error) {
	if sn.done {
		return nil, fmt.Errorf("snapshot vector: %w", ErrClosed)
	}
	v, err := readVector(sn.txn)
	if err != nil {
		return nil, fmt.Errorf("snapshot vector: %w", err)
	}
	return v, nil
}

// Get returns the record current for (ns, key) in the view, or
// ErrNotFound.
func (sn *Snapshot) Get(ns, key string) (crdt.Record, error) {
	if sn.done {
		return crdt.Record{}, fmt.Errorf("snapshot get: %w", ErrClosed)
	}
	rec, err := readRecord(sn.txn, recordKey(ns, key))
	if err != nil {
		return crdt.Record{}, fmt.Errorf("snapshot get: %w", err)
	}
	return rec, nil
}

// IsHole reports whether the view holds (ns, key) as a hole (see
// DropAfter): a key it cannot answer for.
func (sn *Snapshot) IsHole(ns, key string) (bool, error) {
	if sn.done {
		return false, fmt.Errorf("snapshot hole: %w", ErrClosed)
	}
	_, err := sn.txn.Get(holeKey(nsKey(ns, key)))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("snapshot hole: %w", err)
	}
	return true, nil
}

// Above calls fn, origin by origin in seq order, for every current record
// whose (origin, seq) is not covered by have. It reads only the index
// entries above have, so its cost follows the difference, not the data set.
// It stops at the first error fn returns.
func (sn *Snapshot) Above(have crdt.Vector, fn func(crdt.Record) error) error {
	if sn.done {
		return fmt.Errorf("snapshot above: %w", ErrClosed)
	}
	it := sn.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagOrigin}})
	defer it.Close()
	it.Rewind()
	for it.Valid() {
		origin, _, err := parseOriginKey(it.Item().Key())
		if err != nil {
			return fmt.Errorf("snapshot above: %w", err)
		}
		prefix := originPrefix(origin)
		it.Seek(originKey(origin, have.Get(origin)+1))
		for ; it.Valid() && bytes.HasPrefix(it.Item().Key(), prefix); it.Next() {
			ref, err := it.Item().ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("snapshot above: %w", err)
			}
			rec, err := getRecord(sn.txn, ref)
			if err != nil {
				return fmt.Errorf("snapshot above: %w", err)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		// The iterator now rests on the next origin's first entry, if any.
	}
	return nil
}
