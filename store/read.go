package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Get returns the current record for (ns, key), which may be a tombstone
// (Deleted set). It returns ErrNotFound if the key was never written.
func (s *Store) Get(ns, key string) (crdt.Record, error) {
	var rec crdt.Record
	err := s.view(func(txn *badger.Txn) error {
		var err error
		rec, err = readRecord(txn, recordKey(ns, key))
		return err
	})
	if err != nil {
		return crdt.Record{}, fmt.Errorf("store get: %w", err)
	}
	return rec, nil
}

// getRecord reads the record whose ns∥0∥key reference is ref.
func getRecord(txn *badger.Txn, ref []byte) (crdt.Record, error) {
	return readRecord(txn, append([]byte{tagRecord}, ref...))
}

// readRecord reads the record stored under the record-table key k.
func readRecord(txn *badger.Txn, k []byte) (crdt.Record, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return crdt.Record{}, ErrNotFound
	}
	if err != nil {
		return crdt.Record{}, err
	}
	sr, err := itemStored(item)
	return sr.rec, err
}

// List returns up to limit live records of ns whose keys start with prefix
// and sort after the key after, in key order. more reports whether further
// records follow the last one returned.
func (s *Store) List(ns, prefix, after string, limit int) (recs []crdt.Record, more bool, err error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("store list: limit must be positive")
	}
	pfx := recordPrefix(ns, prefix)
	start := pfx
	if after != "" {
		// The smallest key strictly greater than after.
		start = append(recordKey(ns, after), 0)
		if bytes.Compare(start, pfx) < 0 {
			start = pfx
		}
	}
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: min(limit+1, 256)})
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			sr, err := itemStored(it.Item())
			if err != nil {
				return err
			}
			if sr.rec.Deleted {
				continue
			}
			if len(recs) == limit {
				more = true
				return nil
			}
			recs = append(recs, sr.rec)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store list: %w", err)
	}
	return recs, more, nil
}
