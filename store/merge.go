package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/syncnode/syncnode/crdt"
)

// merger applies writes inside one Badger transaction and keeps the working
// state (digest, counters, frontier, feed head) in step with what it writes.
type merger struct {
	txn      *badger.Txn
	st       *state
	frontier *crdt.Frontier
	clock    *crdt.Clock
	origin   crdt.NodeID
	seal     func(ns, key string, v crdt.Version, value []byte) ([]byte, error)
	sign     func(crdt.Record) ([]byte, error)
	maxEntry int                      // largest stored record; 0 means no limit
	touched  map[crdt.NodeID]struct{} // origins whose vector entry may have moved
	// holesOwned is set once st.holes is this commit's own copy.
	holesOwned bool
}

// fitsLocal checks, before anything is written, that a local write can be
// stored; an error is the caller's alone and must not fail the batch.
func (m *merger) fitsLocal(ns, key string, value []byte) error {
	// The stamp has a fixed size, so the seq is all the sizing needs.
	return m.fits(crdt.Record{NS: ns, Key: key, Value: value, Version: crdt.Version{
		Origin: m.origin,
		Seq:    m.st.selfSeq + 1,
	}})
}

func (m *merger) fits(rec crdt.Record) error {
	if m.maxEntry == 0 {
		return nil
	}
	if n := storedSize(rec); n > m.maxEntry {
		return fmt.Errorf("%w: record of %d bytes exceeds the %d-byte entry limit of an in-memory store",
			crdt.ErrInvalid, n, m.maxEntry)
	}
	return nil
}

// errSeal marks a failure of the seal function: the write's alone.
var errSeal = errors.New("store: sealing the value failed")

// local stamps and installs a write made on this node, sealing its value
// and signing it if the store does, and returns the record as stored. It
// always wins: the clock has absorbed every stamp already stored, so Now()
// exceeds them all.
func (m *merger) local(ns, key string, value []byte, deleted bool) (crdt.Record, error) {
	cur, err := m.get(ns, key)
	if err != nil {
		return crdt.Record{}, err
	}
	rec := crdt.Record{NS: ns, Key: key, Value: value, Deleted: deleted, Version: crdt.Version{
		HLC:    m.clock.Now(),
		Origin: m.origin,
		Seq:    m.st.selfSeq + 1,
	}}
	if m.seal != nil && !deleted {
		if rec.Value, err = m.seal(ns, key, rec.Version, value); err != nil {
			return crdt.Record{}, fmt.Errorf("%w: %w", errSeal, err)
		}
	}
	if err := m.signRecord(&rec); err != nil {
		return crdt.Record{}, err
	}
	m.st.selfSeq++
	if err := m.install(rec, cur); err != nil {
		return crdt.Record{}, err
	}
	m.observe(rec.Version)
	return rec, nil
}

// signRecord sets rec's signature if the store signs local writes.
func (m *merger) signRecord(rec *crdt.Record) error {
	if m.sign == nil {
		return nil
	}
	sig, err := m.sign(*rec)
	if err != nil {
		return fmt.Errorf("%w: %w", errSeal, err)
	}
	rec.Sig = sig
	return nil
}

// remote merges records from peers.
func (m *merger) remote(recs []crdt.Record) (ApplyResult, error) {
	var res ApplyResult
	for _, rec := range recs {
		if err := m.check(rec); err != nil {
			res.Rejected = append(res.Rejected, Rejection{Record: rec, Err: err})
			continue
		}
		if !m.seen(rec) {
			if err := m.merge(rec, &res); err != nil {
				return res, err
			}
		} else {
			res.Stale++
		}
		// A superseded write still counts as seen: the newer one that beat
		// it carries everything a peer could want for this key.
		m.observe(rec.Version)
	}
	res.Gap = m.frontier.Gaps()
	return res, nil
}

// merge installs rec if it supersedes the key's current record, and counts
// it in res as applied or stale.
func (m *merger) merge(rec crdt.Record, res *ApplyResult) error {
	cur, err := m.get(rec.NS, rec.Key)
	if err != nil {
		return err
	}
	if cur != nil && !crdt.Supersedes(rec, cur.rec) {
		res.Stale++
		return nil
	}
	if err := m.install(rec, cur); err != nil {
		return err
	}
	res.Applied = append(res.Applied, rec)
	return nil
}

// check validates a record from a peer, and its stamp against the clock,
// which absorbs it.
func (m *merger) check(rec crdt.Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	if err := m.fits(rec); err != nil {
		return err
	}
	return m.clock.Update(rec.Version.HLC)
}

// seen reports whether rec's version was merged here before, applied or
// superseded. A write is never merged twice: a copy of one is stale
// whatever it holds. That keeps a key whose record was dropped (most often
// a collected tombstone) from coming back, and a device from issuing a
// second write under a seq it already used, which would otherwise win any
// key it stamps later, and slip under a revocation's cut.
func (m *merger) seen(rec crdt.Record) bool {
	return m.frontier.Seen(rec.Version.Origin, rec.Version.Seq)
}

// join raises the frontier to v.
func (m *merger) join(v crdt.Vector) {
	for origin, seq := range v {
		if seq > m.frontier.Get(origin) {
			m.touched[origin] = struct{}{}
		}
		if origin == m.origin && seq > m.st.selfSeq {
			m.st.selfSeq = seq
		}
	}
	m.frontier.Join(v)
}

func (m *merger) observe(v crdt.Version) {
	if v.Origin == m.origin && v.Seq > m.st.selfSeq {
		m.st.selfSeq = v.Seq
	}
	if advanced, _ := m.frontier.Observe(v.Origin, v.Seq); advanced {
		m.touched[v.Origin] = struct{}{}
	}
}

func (m *merger) get(ns, key string) (*storedRecord, error) {
	item, err := m.txn.Get(recordKey(ns, key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sr, err := itemStored(item)
	if err != nil {
		return nil, err
	}
	return &sr, nil
}

// install makes rec the current record for its key, replacing cur (nil if
// none) in the record table, the per-origin index, the change feed, the
// digest and the counters.
func (m *merger) install(rec crdt.Record, cur *storedRecord) error {
	pos := m.st.feedHead + 1
	ref := nsKey(rec.NS, rec.Key)
	if cur != nil {
		if err := m.txn.Delete(originKey(cur.rec.Version.Origin, cur.rec.Version.Seq)); err != nil {
			return err
		}
		if err := m.txn.Delete(feedKey(cur.feedPos)); err != nil {
			return err
		}
	}
	if err := m.txn.Set(recordKey(rec.NS, rec.Key), encodeStored(storedRecord{rec: rec, feedPos: pos})); err != nil {
		return err
	}
	if err := m.txn.Set(originKey(rec.Version.Origin, rec.Version.Seq), ref); err != nil {
		return err
	}
	if err := m.txn.Set(feedKey(pos), ref); err != nil {
		return err
	}
	m.st.feedHead = pos
	if len(m.st.holes) > 0 {
		if err := m.fillHole(ref); err != nil {
			return err
		}
	}
	if cur != nil {
		m.st.digest.Remove(cur.rec)
		m.count(cur.rec, -1)
	}
	m.st.digest.Add(rec)
	m.count(rec, +1)
	return nil
}

func (m *merger) count(r crdt.Record, delta int64) {
	if r.Deleted {
		m.st.dead += delta
	} else {
		m.st.live += delta
	}
}
