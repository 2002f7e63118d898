package registry

import (
	"fmt"
	"slices"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

// Ack records that the named device has acknowledged everything in v and
// the relay feed up to cursor: both replace what it acknowledged before, and
// LastSeen becomes now. Zero entries of v count as absent.
func (r *Registry) Ack(name string, v crdt.Vector, cursor uint64) error {
	if err := validateVector(v); err != nil {
		return fmt.Errorf("registry ack %q: %w", name, err)
	}
	_, _, err := r.update(name, func(next *entry) (bool, error) {
		if next.Revoked {
			return false, ErrRevoked
		}
		next.Ack = crdt.Vector{}
		for origin, seq := range v {
			if seq > 0 {
				next.Ack[origin] = seq
			}
		}
		next.Cursor, next.LastSeen = cursor, r.now()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("registry ack %q: %w", name, err)
	}
	return nil
}

// Quorum returns what every active device has acknowledged: q holds, per
// origin, the minimum of their Ack vectors (an origin missing from any of
// them is missing from q), and minCursor the minimum of their cursors. A
// device is active if it is not revoked and acknowledged within horizon of
// now; every other non-revoked device, including one that never
// acknowledged, is named in expired (sorted) and left out. With no active
// device, q is empty and minCursor 0.
func (r *Registry) Quorum(horizon time.Duration) (q crdt.Vector, minCursor uint64, expired []string) {
	now := r.now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	q = crdt.Vector{}
	first := true
	for _, e := range r.byName {
		switch {
		case e.Revoked:
			continue
		case e.LastSeen.IsZero() || now.Sub(e.LastSeen) > horizon:
			expired = append(expired, e.Name)
			continue
		}
		if first {
			q, minCursor, first = e.Ack.Clone(), e.Cursor, false
			continue
		}
		for origin, seq := range q {
			if other := e.Ack[origin]; other < seq {
				if other == 0 {
					delete(q, origin)
				} else {
					q[origin] = other
				}
			}
		}
		minCursor = min(minCursor, e.Cursor)
	}
	slices.Sort(expired)
	return q, minCursor, expired
}

// MarkResync flags the named devices as needing a full resync before their
// pushes are trusted. It fails with ErrUnknown, changing nothing, if any
// name is unknown.
func (r *Registry) MarkResync(names []string) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	var changed []*entry
	for _, name := range names {
		cur := r.byName[name]
		if cur == nil {
			return fmt.Errorf("registry mark resync %q: %w", name, ErrUnknown)
		}
		if cur.Resync || slices.ContainsFunc(changed, func(e *entry) bool { return e.Name == name }) {
			continue
		}
		next := cur.clone()
		next.Resync = true
		changed = append(changed, next)
	}
	if len(changed) == 0 {
		return nil
	}
	if err := r.commit(changed...); err != nil {
		return fmt.Errorf("registry mark resync: %w", err)
	}
	return nil
}

// ClearResync clears the named device's resync flag once it has resynced.
func (r *Registry) ClearResync(name string) error {
	_, _, err := r.update(name, func(next *entry) (bool, error) {
		if !next.Resync {
			return false, nil
		}
		next.Resync = false
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("registry clear resync %q: %w", name, err)
	}
	return nil
}
