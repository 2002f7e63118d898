package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// Group-commit bounds: one commit takes at most this many queued operations
// or bytes, and never more than Badger's transaction limits allow (see
// txnLimits). Larger batches amortise fsync further but delay the first
// writer in them.
const (
	maxBatchOps   = 1024
	maxBatchBytes = 4 << 20
)

// op is one queued mutation: a local write, or remote records to merge.
type op struct {
	// local write
	local   bool
	ns, key string
	value   []byte
	deleted bool
	// remote merge
	recs []crdt.Record
	// vector join
	join crdt.Vector
	// thin-client writes (WriteAll); wres is filled in step with writes
	writes []Write
	wres   []WriteResult
	// drop: records to remove if match still holds; dropped counts them
	drop    *dropOp
	dropped int
	// clearRestored lifts the restored marker
	clearRestored bool
	// refill: holes to fill (see Refill); the result goes in result
	refill *refillOp

	// results, valid once done is closed
	stored crdt.Record // a local write as installed
	result ApplyResult
	err    error
	done   chan struct{}
}

// cost estimates what o adds to a commit; self is the local origin.
func (o *op) cost(self crdt.NodeID) cost {
	var c cost
	switch {
	case o.local:
		// Sealing may grow the value by a third: budget for that.
		c = recordCost(o.ns, o.key, self, len(o.value)*4/3+128)
	case o.join != nil:
		for origin := range o.join {
			c = c.plus(joinCost(origin))
		}
	case o.writes != nil:
		for _, w := range o.writes {
			c = c.plus(w.cost(self))
		}
	case o.drop != nil:
		for _, ref := range o.drop.refs {
			c = c.plus(dropCost(ref))
		}
	case o.clearRestored:
		c = cost{entries: 1, bytes: entryOverhead + 2}
	case o.refill != nil:
		c = o.refill.cost()
	default:
		for _, r := range o.recs {
			c = c.plus(recordCost(r.NS, r.Key, r.Version.Origin, len(r.Value)))
		}
	}
	return c
}

// Rejection is a remote record the store refused, and why.
type Rejection struct {
	Record crdt.Record
	Err    error
}

// ApplyResult says what merging remote records did.
type ApplyResult struct {
	// Applied holds the records that changed local state.
	Applied []crdt.Record
	// Stale counts records already covered by an equal or newer version.
	Stale int
	// Rejected holds invalid records and records stamped beyond max skew.
	Rejected []Rejection
	// Gap reports that some origin has writes held beyond a missing seq, so
	// an anti-entropy pull is due.
	Gap bool
}

func (r *ApplyResult) add(o ApplyResult) {
	r.Applied = append(r.Applied, o.Applied...)
	r.Stale += o.Stale
	r.Rejected = append(r.Rejected, o.Rejected...)
	r.Gap = r.Gap || o.Gap
}

// Put durably writes value (one JSON document) under (ns, key) as a new
// local version, and returns that version.
func (s *Store) Put(ctx context.Context, ns, key string, value []byte) (crdt.Version, error) {
	rec, err := s.PutRecord(ctx, ns, key, value)
	return rec.Version, err
}

// PutRecord is Put returning the record as stored: with its value sealed,
// if the store seals. That is what a node gossips.
func (s *Store) PutRecord(ctx context.Context, ns, key string, value []byte) (crdt.Record, error) {
	if err := crdt.ValidateValue(value); err != nil {
		return crdt.Record{}, err
	}
	return s.write(ctx, &op{local: true, ns: ns, key: key, value: value})
}

// Delete durably writes a tombstone for (ns, key). Deleting a key this
// replica has never seen still writes the tombstone, since another replica
// may hold the record.
func (s *Store) Delete(ctx context.Context, ns, key string) (crdt.Version, error) {
	rec, err := s.DeleteRecord(ctx, ns, key)
	return rec.Version, err
}

// DeleteRecord is Delete returning the tombstone as stored (signed, if the
// store signs): what a node gossips.
func (s *Store) DeleteRecord(ctx context.Context, ns, key string) (crdt.Record, error) {
	return s.write(ctx, &op{local: true, ns: ns, key: key, deleted: true})
}

func (s *Store) write(ctx context.Context, o *op) (crdt.Record, error) {
	if err := crdt.ValidateNamespace(o.ns); err != nil {
		return crdt.Record{}, err
	}
	if err := crdt.ValidateKey(o.key); err != nil {
		return crdt.Record{}, err
	}
	if err := s.submit(ctx, o); err != nil {
		return crdt.Record{}, err
	}
	return o.stored, nil
}

// Apply merges records received from peers and returns once the changes are
// durable. Each record is validated and its stamp checked against the clock;
// a bad record is rejected on its own without failing the others.
func (s *Store) Apply(ctx context.Context, recs []crdt.Record) (ApplyResult, error) {
	var total ApplyResult
	for len(recs) > 0 {
		n := s.limits.chunk(len(recs), func(i int) cost {
			r := recs[i]
			return recordCost(r.NS, r.Key, r.Version.Origin, len(r.Value))
		})
		o := &op{recs: recs[:n]}
		if err := s.submit(ctx, o); err != nil {
			return total, err
		}
		total.add(o.result)
		recs = recs[n:]
	}
	return total, nil
}

// Join durably raises the store's vector to cover v. Call it only after
// merging every record a peer's snapshot holds above our vector, and leave
// out origins any of whose records were rejected: joining claims that this
// replica now holds, or has superseded, every write v counts.
//
// A vector too large for one transaction is joined in parts: raising each
// origin's entry on its own is as safe as raising them together.
func (s *Store) Join(ctx context.Context, v crdt.Vector) error {
	origins := slices.Collect(maps.Keys(v))
	for len(origins) > 0 {
		n := s.limits.chunk(len(origins), func(i int) cost { return joinCost(origins[i]) })
		part := make(crdt.Vector, n)
		for _, o := range origins[:n] {
			part[o] = v[o]
		}
		if err := s.submit(ctx, &op{join: part}); err != nil {
			return err
		}
		origins = origins[n:]
	}
	return nil
}

// joinCost estimates raising one origin's vector entry.
func joinCost(origin crdt.NodeID) cost {
	return cost{entries: 1, bytes: int64(1 + len(origin) + 8 + entryOverhead)}
}

// chunk returns how many of n leading items, at least one, fit in one
// commit; costOf(i) estimates item i.
func (l txnLimits) chunk(n int, costOf func(i int) cost) int {
	var c cost
	for i := range n {
		c = c.plus(costOf(i))
		if i > 0 && !c.within(l) {
			return i
		}
	}
	return n
}

// submit queues o and waits for its commit. Once queued, an operation runs
// to completion even if ctx ends, so a cancelled caller may still find its
// write applied.
func (s *Store) submit(ctx context.Context, o *op) error {
	o.done = make(chan struct{})
	select {
	case s.ops <- o:
	case <-s.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-o.done:
		return o.err
	case <-s.done:
		// The loop has exited. It finished o, or it never will: o was
		// queued after the loop's last look at the queue.
		select {
		case <-o.done:
			return o.err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) commitLoop() {
	defer close(s.done)
	var (
		batch  []*op
		carry  *op // taken from the queue but left out of a full batch
		linger lingerer
		timer  = time.NewTimer(time.Hour)
	)
	timer.Stop()
	for {
		first := carry
		if first == nil {
			select {
			case first = <-s.ops:
			case <-s.closing:
				s.failQueued()
				return
			}
		}
		batch, carry = s.gather(append(batch[:0], first), &linger, timer)
		start := time.Now()
		s.commitBatch(batch)
		linger.committed(len(batch), time.Since(start))
	}
}

// gather adds queued operations to batch, which holds one, until it is full,
// or the queue is empty and linger sees no reason to wait (timer bounds the
// wait), or the store closes. It returns the batch and the operation it took
// from the queue but could not fit, if any.
func (s *Store) gather(batch []*op, linger *lingerer, timer *time.Timer) ([]*op, *op) {
	defer timer.Stop()
	c := batch[0].cost(s.origin)
	var lingering <-chan time.Time
	for len(batch) < maxBatchOps {
		var o *op
		select {
		case o = <-s.ops:
		default:
			d := linger.wait(len(batch))
			if d == 0 {
				return batch, nil
			}
			if lingering == nil {
				timer.Reset(d)
				lingering = timer.C
			}
			select {
			case o = <-s.ops:
			case <-lingering:
				return batch, nil
			case <-s.closing:
				return batch, nil
			}
		}
		next := c.plus(o.cost(s.origin))
		if !next.within(s.limits) {
			return batch, o
		}
		batch, c = append(batch, o), next
	}
	return batch, nil
}

func (s *Store) failQueued() {
	for {
		select {
		case o := <-s.ops:
			o.err = ErrClosed
			close(o.done)
		default:
			return
		}
	}
}

// commitBatch commits batch in one transaction, splitting it when Badger
// finds the transaction too big, and then wakes every waiter.
func (s *Store) commitBatch(batch []*op) {
	err := s.tryCommit(batch)
	if err != nil {
		// The frontier may count writes that did not reach disk. Restart it
		// from the committed vector; what it forgets about writes held
		// beyond gaps, anti-entropy delivers again.
		s.frontier = crdt.NewFrontier(s.committed.vector)
	}
	if errors.Is(err, badger.ErrTxnTooBig) && len(batch) > 1 {
		h := len(batch) / 2
		s.commitBatch(batch[:h])
		s.commitBatch(batch[h:])
		return
	}
	for _, o := range batch {
		if err != nil {
			o.err = fmt.Errorf("store commit: %w", err)
		}
		close(o.done)
	}
}

// tryCommit runs batch against a working copy of the committed state and
// publishes that copy only if Badger commits, so memory never runs ahead of
// disk.
func (s *Store) tryCommit(batch []*op) error {
	s.mu.RLock()
	w := s.committed
	s.mu.RUnlock()

	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	m := merger{
		txn:      txn,
		st:       &w,
		frontier: s.frontier,
		clock:    s.clock,
		origin:   s.origin,
		seal:     s.seal,
		sign:     s.sign,
		maxEntry: s.limits.maxEntry,
		touched:  map[crdt.NodeID]struct{}{},
	}
	changed, cleared := false, false
	for _, o := range batch {
		o.err, o.stored, o.result, o.dropped = nil, crdt.Record{}, ApplyResult{}, 0
		clear(o.wres)
		switch {
		case o.join != nil:
			m.join(o.join)
		case o.clearRestored:
			if w.restored {
				w.restored = false
				if err := txn.Delete(metaRestored); err != nil {
					return err
				}
				cleared = true
			}
		case (o.local || o.writes != nil) && w.restored:
			o.err = ErrRestored
		case o.drop != nil:
			n, err := m.drop(o.drop)
			if err != nil {
				return err
			}
			o.dropped = n
			changed = changed || n > 0
		case o.refill != nil:
			res, err := m.refill(o.refill)
			if err != nil {
				return err
			}
			o.result = res
			changed = changed || len(res.Applied) > 0
		case o.writes != nil:
			n, err := m.writeAll(o.writes, o.wres)
			if err != nil {
				return err
			}
			changed = changed || n > 0
		case o.local:
			if err := m.fitsLocal(o.ns, o.key, o.value); err != nil {
				o.err = err
				continue
			}
			rec, err := m.local(o.ns, o.key, o.value, o.deleted)
			if errors.Is(err, errSeal) {
				o.err = err
				continue
			}
			if err != nil {
				return err
			}
			o.stored = rec
			changed = true
		default:
			res, err := m.remote(o.recs)
			if err != nil {
				return err
			}
			o.result = res
			changed = changed || len(res.Applied) > 0
		}
	}
	if len(m.touched) == 0 && !changed && !cleared && !m.holesOwned {
		// Only stale or rejected records: nothing to write. The frontier
		// keeps what it learned about writes beyond a gap.
		return nil
	}
	w.vector = s.frontier.Vector()
	w.held = s.frontier.Held(MaxHeldRuns)
	if err := writeMeta(txn, w, m.touched, s.clock.Last()); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	s.mu.Lock()
	s.committed = w
	if changed {
		close(s.notify)
		s.notify = make(chan struct{})
	}
	s.mu.Unlock()
	return nil
}
