package store

import (
	"errors"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// state is the in-memory summary of what is committed: it mirrors the
// metadata keys and is rewritten in the same transaction as the records, so
// it never disagrees with them. A published state is never modified; the
// commit loop works on a copy with a fresh vector.
type state struct {
	vector   crdt.Vector // contiguous seqs, as persisted
	digest   crdt.Digest
	feedHead uint64
	live     int64
	dead     int64
	// selfSeq is the highest seq of our own origin ever stored, which can
	// exceed the frontier after a restore from an old backup; local writes
	// continue above it so no (origin, seq) is ever reused.
	selfSeq uint64
	// held are the writes held beyond a missing seq of some origin, nil if
	// none. They are not persisted: a restart forgets them and
	// anti-entropy resends.
	held crdt.Held
	// restored is set while the store, restored from a backup, refuses
	// local writes; persisted as the presence of metaRestored.
	restored bool
	// holes are the keys (ns∥0∥key) emptied by DropAfter and not written
	// since, each with the origin and cut that left it (Hole.Key unset),
	// nil if none; persisted under tagHole. The map is
	// never changed in place: a commit that changes it makes a new one.
	holes map[string]Hole
	// gaps are the feed positions restores skipped (see
	// SkippedByRestore), oldest first; persisted under metaFeedGaps.
	gaps []feedGap
}

var (
	metaSelfSeq  = []byte{tagMeta, 's'}
	metaRestored = []byte{tagMeta, 'R'}
	// metaFormat holds the layout version, written when a store is first
	// opened, so that even an empty store's backup names itself.
	metaFormat = []byte{tagMeta, 'F'}
)

// storeFormat is the layout described in keys.go.
const storeFormat = 1

// ensureFormat stamps a store with its layout version, and refuses one
// written by a newer layout.
func ensureFormat(db *badger.DB) error {
	return db.Update(func(txn *badger.Txn) error {
		format, err := readFormat(txn)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			return txn.Set(metaFormat, u64(storeFormat))
		case err != nil:
			return err
		case format != storeFormat:
			return fmt.Errorf("%w: unknown store format %d", ErrCorrupt, format)
		}
		return nil
	})
}

func readFormat(txn *badger.Txn) (uint64, error) {
	item, err := txn.Get(metaFormat)
	if err != nil {
		return 0, err
	}
	var format uint64
	err = item.Value(func(b []byte) (err error) {
		format, err = readU64(b)
		return err
	})
	return format, err
}

// loadState reads the committed metadata and the clock's high-water mark.
func loadState(db *badger.DB) (state, crdt.Timestamp, error) {
	st := state{}
	var hlc uint64
	vec := crdt.Vector{}
	err := db.View(func(txn *badger.Txn) error {
		for _, m := range []struct {
			key []byte
			dst *uint64
		}{{metaHLC, &hlc}, {metaFeedHead, &st.feedHead}, {metaSelfSeq, &st.selfSeq}} {
			if err := getU64(txn, m.key, m.dst); err != nil {
				return err
			}
		}
		var live, dead uint64
		if err := getU64(txn, metaLive, &live); err != nil {
			return err
		}
		if err := getU64(txn, metaDead, &dead); err != nil {
			return err
		}
		st.live, st.dead = int64(live), int64(dead)
		gaps, err := loadFeedGaps(txn)
		if err != nil {
			return err
		}
		st.gaps = gaps
		if _, err := txn.Get(metaRestored); err == nil {
			st.restored = true
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if item, err := txn.Get(metaDigest); err == nil {
			b, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			d, ok := crdt.DigestFromBytes(b)
			if !ok {
				return fmt.Errorf("%w: digest", ErrCorrupt)
			}
			st.digest = d
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if vec, err = readVector(txn); err != nil {
			return err
		}
		st.holes, err = readHoles(txn)
		return err
	})
	if err != nil {
		return state{}, 0, fmt.Errorf("load state: %w", err)
	}
	st.vector = vec
	return st, crdt.Timestamp(hlc), nil
}

func readVector(txn *badger.Txn) (crdt.Vector, error) {
	vec := crdt.Vector{}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagVector}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		var seq uint64
		err := item.Value(func(b []byte) (err error) {
			seq, err = readU64(b)
			return err
		})
		if err != nil {
			return nil, err
		}
		vec[crdt.NodeID(item.Key()[1:])] = seq
	}
	return vec, nil
}

func getU64(txn *badger.Txn, key []byte, dst *uint64) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) (err error) {
		*dst, err = readU64(b)
		return err
	})
}

// writeMeta stores st (its vector only for the origins in touched) and the
// clock's high-water mark in txn.
func writeMeta(txn *badger.Txn, st state, touched map[crdt.NodeID]struct{}, hlc crdt.Timestamp) error {
	sets := []struct{ k, v []byte }{
		{metaHLC, u64(uint64(hlc))},
		{metaFeedHead, u64(st.feedHead)},
		{metaSelfSeq, u64(st.selfSeq)},
		{metaLive, u64(uint64(st.live))},
		{metaDead, u64(uint64(st.dead))},
		{metaDigest, st.digest.Bytes()},
	}
	for origin := range touched {
		sets = append(sets, struct{ k, v []byte }{vectorKey(origin), u64(st.vector.Get(origin))})
	}
	for _, kv := range sets {
		if err := txn.Set(kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// raiseSelfSeq makes sure the next local write gets a fresh seq: one above
// every write of origin the store has counted in its vector or holds in
// its index, whatever the stored counter says. A version is merged only
// once anywhere, so a reused seq would be a write every peer ignores; a
// backup's counter is checked no other way.
func raiseSelfSeq(db *badger.DB, st *state, origin crdt.NodeID) error {
	st.selfSeq = max(st.selfSeq, st.vector.Get(origin))
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: originPrefix(origin), Reverse: true})
		defer it.Close()
		it.Seek(originKey(origin, math.MaxUint64))
		if !it.Valid() {
			return nil
		}
		_, seq, err := parseOriginKey(it.Item().Key())
		if err != nil {
			return err
		}
		st.selfSeq = max(st.selfSeq, seq)
		return nil
	})
}
