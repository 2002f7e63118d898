package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/syncnode/syncnode/crdt"
)

// ErrSuperseded rejects a client-stamped write whose key already holds a
// newer version.
var ErrSuperseded = errors.New("a newer version of this key is already stored")

// Write is one local write submitted on behalf of a client (the relay's HTTP
// sync).
type Write struct {
	NS, Key string
	Value   []byte // JSON; ignored when Deleted
	Deleted bool
	// HLC is the client's own stamp for the write; zero means stamp it with
	// the store clock's Now().
	HLC crdt.Timestamp
}

// WriteResult is the outcome of one Write.
type WriteResult struct {
	// Version is the version now current for the key: the new one, or the
	// one already stored for a no-op or a write it superseded.
	Version crdt.Version
	// Applied reports that the write installed a new version; false for a
	// no-op or a rejection.
	Applied bool
	// Record is the record installed, signed if the store signs; set only
	// when Applied. It is what a node gossips.
	Record crdt.Record
	// Err is a rejection of this write alone: it wraps crdt.ErrInvalid,
	// crdt.ErrClockSkew or ErrSuperseded.
	Err error
}

// cost estimates what installing w adds to a commit.
func (w Write) cost(self crdt.NodeID) cost {
	return recordCost(w.NS, w.Key, self, len(w.value()))
}

// value is what w stores: nothing for a tombstone.
func (w Write) value() []byte {
	if w.Deleted {
		return nil
	}
	return w.Value
}

// validate applies the limits Put and Delete apply.
func (w Write) validate() error {
	if err := crdt.ValidateNamespace(w.NS); err != nil {
		return err
	}
	if err := crdt.ValidateKey(w.Key); err != nil {
		return err
	}
	if w.Deleted {
		return nil
	}
	return crdt.ValidateValue(w.Value)
}

// WriteAll durably applies local writes made on behalf of clients, as this
// store's origin, and returns one result per write, in order. A write that
// repeats the key's current content (same deletion state, byte-identical
// value) is a no-op, so a client may retry safely. A write with its own HLC
// is installed only if it supersedes the key's current version; otherwise
// it is rejected with ErrSuperseded and consumes no seq. A write with a zero
// HLC is stamped now and always wins. Applied writes are published like
// Put's, on the change feed and to Changed.
//
// The error return is kept for store failures (closed, I/O, ErrRestored);
// the writes are committed in chunks, so after such an error the results
// returned cover exactly the leading writes whose chunks committed.
func (s *Store) WriteAll(ctx context.Context, ws []Write) ([]WriteResult, error) {
	results := make([]WriteResult, 0, len(ws))
	for len(ws) > 0 {
		n := s.limits.chunk(len(ws), func(i int) cost { return ws[i].cost(s.origin) })
		o := &op{writes: ws[:n], wres: make([]WriteResult, n)}
		if err := s.submit(ctx, o); err != nil {
			return results, fmt.Errorf("store write: %w", err)
		}
		results = append(results, o.wres...)
		ws = ws[n:]
	}
	return results, nil
}

// writeAll applies ws, filling res in step, and returns how many were
// installed. Only a storage failure is returned as an error.
func (m *merger) writeAll(ws []Write, res []WriteResult) (int, error) {
	applied := 0
	for i, w := range ws {
		r, err := m.write(w)
		if err != nil {
			return applied, err
		}
		if r.Applied {
			applied++
		}
		res[i] = r
	}
	return applied, nil
}

func (m *merger) write(w Write) (WriteResult, error) {
	value := w.value()
	if err := w.validate(); err != nil {
		return WriteResult{Err: err}, nil
	}
	if err := m.fitsLocal(w.NS, w.Key, value); err != nil {
		return WriteResult{Err: err}, nil
	}
	cur, err := m.get(w.NS, w.Key)
	if err != nil {
		return WriteResult{}, err
	}
	if cur != nil && cur.rec.Deleted == w.Deleted && bytes.Equal(cur.rec.Value, value) {
		return WriteResult{Version: cur.rec.Version}, nil
	}
	hlc := w.HLC
	if hlc == 0 {
		hlc = m.clock.Now()
	} else if err := m.clock.Update(hlc); err != nil {
		return WriteResult{Err: err}, nil
	}
	rec := crdt.Record{NS: w.NS, Key: w.Key, Value: value, Deleted: w.Deleted, Version: crdt.Version{
		HLC:    hlc,
		Origin: m.origin,
		Seq:    m.st.selfSeq + 1,
	}}
	if cur != nil && !crdt.Supersedes(rec, cur.rec) {
		return WriteResult{Version: cur.rec.Version, Err: fmt.Errorf("%w: stored %v", ErrSuperseded, cur.rec.Version)}, nil
	}
	if err := m.signRecord(&rec); err != nil {
		return WriteResult{}, err
	}
	if err := m.install(rec, cur); err != nil {
		return WriteResult{}, err
	}
	m.observe(rec.Version)
	return WriteResult{Version: rec.Version, Applied: true, Record: rec}, nil
}
