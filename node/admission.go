package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/node/signing"
	"github.com/syncnode/syncnode/store"
)

// Admission decides who may sync with a node beyond the group's network
// key, which already keeps strangers out. A relay admits only the devices
// paired with it and refuses revoked ones and their records. Both methods
// are called on hot paths and must be fast and safe for concurrent use.
type Admission interface {
	// AdmitPeer reports whether p may exchange gossip and anti-entropy
	// with this node.
	AdmitPeer(p peer.ID) bool
	// AdmitOrigin reports whether records written by origin are accepted.
	AdmitOrigin(origin crdt.NodeID) bool
}

// openAdmission admits every group member: a device's default.
type openAdmission struct{}

func (openAdmission) AdmitPeer(peer.ID) bool       { return true }
func (openAdmission) AdmitOrigin(crdt.NodeID) bool { return true }

// checkedStore is the store as gossip and anti-entropy see it: records by
// a refused origin, and plaintext values in encrypted namespaces when
// sealed values are required, come back as rejections instead of being
// merged, so anti-entropy does not join their origin's vector entry either.
type checkedStore struct {
	*store.Store
	admit    Admission
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
	if !s.admit.AdmitOrigin(r.Version.Origin) {
		return fmt.Errorf("%w: %s", crdt.ErrRevoked, r.Version.Origin)
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

func (s checkedStore) Apply(ctx context.Context, recs []crdt.Record) (store.ApplyResult, error) {
	kept := make([]crdt.Record, 0, len(recs))
	var refused []store.Rejection
	for _, r := range recs {
		if err := s.check(r, ""); err != nil {
			refused = append(refused, store.Rejection{Record: r, Err: err})
			continue
		}
		kept = append(kept, r)
	}
	res, err := s.Store.Apply(ctx, kept)
	res.Rejected = append(res.Rejected, refused...)
	return res, err
}
