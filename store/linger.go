package store

import (
	"slices"
	"time"
)

// Group commit lets every write queued during one fsync share the next. But
// writers that wait for their acknowledgement come back a moment after it,
// so a loop that commits whatever is queued falls into a rhythm of one lone
// write, then everyone else, then the lone write again: two fsyncs where
// one would do. A lingerer breaks that rhythm: when fewer writes are queued
// than the largest of the last few batches held, the batch waits a short
// while for the others to return, as databases do with a commit delay
// (PostgreSQL's commit_delay, MySQL's binlog_group_commit_sync_delay), but
// sized from what it observes.
//
// The wait is bounded by a fraction of the last commit's duration, so it
// never costs more than a part of the fsync it saves, and a single writer
// (batches of one) never waits at all. Looking back over several batches
// rather than one lets batches grow until they take in every writer.
const (
	// lingerShare is the part of the last commit's duration a batch may
	// wait for more writes.
	lingerShare = 2
	// maxLinger caps the wait whatever the disk's speed.
	maxLinger = time.Millisecond
	// lingerMemory is how many recent batches set the size to wait for.
	lingerMemory = 4
)

// lingerer decides how long a forming batch waits for more operations. It
// is owned by the commit loop.
type lingerer struct {
	sizes [lingerMemory]int // operations in recent batches, a ring
	next  int               // where the next batch's size goes
	last  time.Duration     // how long the last commit took
}

// wait returns how long a batch holding n operations should wait for more;
// zero means commit now.
func (l *lingerer) wait(n int) time.Duration {
	if n >= slices.Max(l.sizes[:]) {
		return 0
	}
	return min(l.last/lingerShare, maxLinger)
}

// committed records a batch of n operations whose commit took d.
func (l *lingerer) committed(n int, d time.Duration) {
	l.sizes[l.next] = n
	l.next = (l.next + 1) % lingerMemory
	l.last = d
}
