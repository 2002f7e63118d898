package store

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Change is one entry of the local change feed: the current record of a key
// and the feed position at which it last changed.
type Change struct {
	Record crdt.Record
	Pos    uint64
}

// Changes returns up to limit changes after feed position since, oldest
// first, including deletions. The feed keeps one entry per key, at the
// position of its latest change, so a reader that falls behind skips the
// intermediate values and sees each key's latest state once. If ns is not
// empty only that namespace is returned. next is the position to pass as
// since for the following call.
func (s *Store) Changes(since uint64, ns string, limit int) (changes []Change, next uint64, err error) {
	if limit <= 0 {
		return nil, since, fmt.Errorf("store changes: limit must be positive")
	}
	next = since
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagFeed}})
		defer it.Close()
		for it.Seek(feedKey(since + 1)); it.Valid() && len(changes) < limit; it.Next() {
			item := it.Item()
			pos := binary.BigEndian.Uint64(item.Key()[1:])
			next = pos
			ref, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if ns != "" {
				refNS, _, err := splitNSKey(ref)
				if err != nil {
					return err
				}
				if refNS != ns {
					continue
				}
			}
			rec, err := getRecord(txn, ref)
			if err != nil {
				return fmt.Errorf("feed entry %d: %w", pos, err)
			}
			changes = append(changes, Change{Record: rec, Pos: pos})
		}
		return nil
	})
	if err != nil {
		return nil, since, fmt.Errorf("store changes: %w", err)
	}
	return changes, next, nil
}
