package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Badger refuses a transaction past a count of entries or an estimated size,
// both derived from the memtable size. The commit loop sizes every batch,
// and Apply every chunk, from estimates so that a transaction stays within
// half of each limit, which leaves room for the metadata written with it
// and for estimation error.
const (
	// entriesPerRecord counts what installing a record writes: its record,
	// origin-index and feed entries, and the deletion of the index and feed
	// entries of the record it replaces.
	entriesPerRecord = 5
	// entryOverhead is Badger's per-entry cost beyond key and value: meta
	// bytes and the version suffix.
	entryOverhead = 12
	// recordOverhead bounds the fixed fields of the record encoding, the
	// feed position and the table tags.
	recordOverhead = 64
	// valueLogThreshold is the stored size from which an on-disk store
	// keeps a record in Badger's value log, leaving only a pointer in the
	// LSM tree. Small records, the common case, stay inline and cost one
	// fsync per commit; larger ones cost a second (the value log's), but
	// no longer pass through memtables, table builders and compactions,
	// which a large catch-up otherwise spends most of its time and memory
	// on.
	valueLogThreshold = 1 << 10
)

// valueLogFileSize is the size of each value-log file: the unit in which
// collectValueLog reclaims space. A variable so tests can shrink it.
var valueLogFileSize int64 = 64 << 20

// txnLimits is the share of one Badger transaction a batch may use.
type txnLimits struct {
	// entries and bytes bound what the transaction puts in the LSM tree.
	entries, bytes int64
	// valueLog is set when records of valueLogThreshold bytes or more go
	// to the value log: their bytes then count against maxBatchBytes only.
	valueLog bool
	// maxEntry is the largest stored record Badger accepts as one entry;
	// zero means no limit. Only an in-memory Badger has one: with no value
	// log, every value must fit its value threshold.
	maxEntry int
}

func newTxnLimits(db *badger.DB, bo badger.Options) txnLimits {
	l := txnLimits{
		entries:  db.MaxBatchCount() / 2,
		bytes:    min(db.MaxBatchSize()/2, maxBatchBytes),
		valueLog: !bo.InMemory,
	}
	if bo.InMemory {
		l.maxEntry = int(min(bo.ValueThreshold, db.MaxBatchSize()/2))
	}
	return l
}

// cost is an estimate of what an operation adds to a transaction: entries
// and bytes in all, logged of those bytes in records big enough for the
// value log.
type cost struct{ entries, bytes, logged int64 }

func (c cost) plus(o cost) cost {
	return cost{c.entries + o.entries, c.bytes + o.bytes, c.logged + o.logged}
}

// within reports whether c fits the limits: the LSM tree's share, and
// maxBatchBytes in all, which bounds a commit's memory.
func (c cost) within(l txnLimits) bool {
	lsm := c.bytes
	if l.valueLog {
		lsm -= c.logged
	}
	return c.entries <= l.entries && lsm <= l.bytes && c.bytes <= maxBatchBytes
}

// recordCost estimates installing one record of origin whose value is
// valueLen bytes long. The namespace and key appear in the record key, its
// encoding and both index entries; the origin in the record and in the
// origin-index keys set and deleted.
func recordCost(ns, key string, origin crdt.NodeID, valueLen int) cost {
	ref := len(ns) + 1 + len(key)
	c := cost{
		entries: entriesPerRecord,
		bytes:   int64(4*ref + 3*len(origin) + valueLen + recordOverhead + entriesPerRecord*entryOverhead),
	}
	if stored := valueLen + recordOverhead; stored >= valueLogThreshold {
		c.logged = int64(stored)
	}
	return c
}

// storedSize is the length of the value stored under a record's key.
func storedSize(rec crdt.Record) int { return 8 + crdt.EncodedSize(rec) }
