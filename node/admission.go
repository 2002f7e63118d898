package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/node/signing"
	"github.com/syncnode/syncnode/store"
)

// Admission decides who may sync with a node beyond the group's network
// key, which already keeps strangers out, and beyond the group's
// revocations, which every node enforces (see node/membership). A relay
// admits only the devices paired with it. AdmitPeer is called on hot paths
// and must be fast and safe for concurrent use.
type Admission interface {
	// AdmitPeer reports whether p may exchange gossip and anti-entropy
	// with this node.
	AdmitPeer(p peer.ID) bool
}

// openAdmission admits every group member: a device's default.
type openAdmission struct{}

func (openAdmission) AdmitPeer(peer.ID) bool { return true }

// memberAdmission refuses revoked devices, then asks the node's own
// Admission.
type memberAdmission struct {
	members *membership.List
	next    Admission
}

func (a memberAdmission) AdmitPeer(p peer.ID) bool {
	return !a.members.RevokedPeer(p) && a.next.AdmitPeer(p)
}

// observedStore is the store as gossip merges into it: every record that
// wins its merge in a membership namespace reaches the node's device list.
type observedStore struct {
	*store.Store
	observe func([]crdt.Record)
}

func (s observedStore) Apply(ctx context.Context, recs []crdt.Record) (store.ApplyResult, error) {
	res, err := s.Store.Apply(ctx, recs)
	s.observe(res.Applied)
	return res, err
}

func (s observedStore) Refill(ctx context.Context, asked []store.Hole, recs []crdt.Record, absent []store.Key) (store.ApplyResult, error) {
	res, err := s.Store.Refill(ctx, asked, recs, absent)
	s.observe(res.Applied)
	return res, err
}

// checkedStore is the store as anti-entropy sees it: writes of revoked
// devices after their cut, invalid membership records, and plaintext
// values in encrypted namespaces when sealed values are required come back
// as rejections instead of being merged, so anti-entropy does not join
// their origin's vector entry either.
type checkedStore struct {
	observedStore
	members  *membership.List
	sealed   bool
	verifier *signing.Verifier // nil: signatures not required
}

// check returns why rec is refused, nil if it is not. publisher, if not
// empty, is a device whose own signature over the message that carried r
// has been checked (a GossipSub author): if it is r's origin, that
// signature already proves the origin wrote r, so the record's own is only
// required to be there, not checked again. An Ed25519 check is most of
// what syncing a record costs, and nearly every record arrives that way.
func (s checkedStore) check(r crdt.Record, publisher crdt.NodeID) error {
	if !s.members.Admit(r.Version) {
		return fmt.Errorf("%w: %s (seq %d)", crdt.ErrRevoked, r.Version.Origin, r.Version.Seq)
	}
	if err := membership.Check(r); err != nil {
		return err
	}
	if s.sealed {
		if err := seal.Check(r); err != nil {
			return err
		}
	}
	switch {
	case s.verifier == nil:
		return nil
	case publisher != "" && publisher == r.Version.Origin:
		return s.verifier.Vouched(r)
	default:
		return s.verifier.Verify(r)
	}
}

// Apply checks and merges recs. A record of a version already merged is
// stale whatever it holds, so it is counted so without a check: a pull
// often resends many writes that gossip delivered meanwhile, and checking
// their signatures would be most of its cost.
func (s checkedStore) Apply(ctx context.Context, recs []crdt.Record) (store.ApplyResult, error) {
	kept, refused, stale := s.screen(recs, true)
	res, err := s.observedStore.Apply(ctx, kept)
	res.Stale += stale
	res.Rejected = append(res.Rejected, refused...)
	return res, err
}

// Refill checks a peer's answers for holes as Apply checks pulled records,
// bar the stale shortcut: every answer is of a version already seen. A key
// whose answer is refused stays a hole, to be asked about again.
func (s checkedStore) Refill(ctx context.Context, asked []store.Hole, recs []crdt.Record, absent []store.Key) (store.ApplyResult, error) {
	kept, refused, _ := s.screen(recs, false)
	res, err := s.observedStore.Refill(ctx, asked, kept, absent)
	res.Rejected = append(res.Rejected, refused...)
	return res, err
}

// screen splits recs into those check passes and those it refuses. With
// skipSeen, records of versions already merged are only counted.
func (s checkedStore) screen(recs []crdt.Record, skipSeen bool) (kept []crdt.Record, refused []store.Rejection, seen int) {
	kept = make([]crdt.Record, 0, len(recs))
	for _, r := range recs {
		if skipSeen && s.Seen(r.Version) {
			seen++
			continue
		}
		if err := s.check(r, ""); err != nil {
			refused = append(refused, store.Rejection{Record: r, Err: err})
			continue
		}
		kept = append(kept, r)
	}
	return kept, refused, seen
}
