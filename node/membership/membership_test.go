package membership_test

import (
	"errors"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/membership"
)

// IDs of real shape: Check and Find parse them as libp2p peer IDs.
const (
	laptop = crdt.NodeID("12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp")
	phone  = crdt.NodeID("12D3KooWHhBDbtpF1VdYBd6ULrgvpB5wHTiyQm3HqoRtRp7wyH1m")
)

func announce(id crdt.NodeID, name string, seq uint64) crdt.Record {
	return crdt.Record{
		NS: membership.DevicesNS, Key: string(id),
		Value:   membership.AnnouncementValue(membership.Announcement{Name: name}),
		Version: crdt.Version{HLC: crdt.NewTimestamp(1_700_000_000_000, 0), Origin: id, Seq: seq},
	}
}

func revoke(by, id crdt.NodeID, cut uint64) crdt.Record {
	return crdt.Record{
		NS: membership.RevokedNS, Key: membership.RevocationKey(id, by),
		Value:   membership.RevocationValue(membership.Revocation{Name: "phone", Seq: cut}),
		Version: crdt.Version{HLC: crdt.NewTimestamp(1_700_000_100_000, 0), Origin: by, Seq: 9},
	}
}

func TestCheckRefusesWhatCouldUndoOrForgeMembership(t *testing.T) {
	forged := announce(laptop, "laptop", 1)
	forged.Version.Origin = phone
	undo := revoke(laptop, phone, 3)
	undo.Deleted, undo.Value = true, nil
	badKey := revoke(laptop, phone, 3)
	badKey.Key = "not-a-peer-id/" + string(laptop)
	inAnothersName := revoke(laptop, phone, 3)
	inAnothersName.Version.Origin = phone
	aliasID := announce(laptop, "laptop", 1)
	aliasID.Key = "k51qzi5uqu5dl4dpeq5yprsvbo8ny0wmkq4kmnr9azjqpl2bz4xccm2f54iw9o" // a CID form of some ID
	aliasID.Version.Origin = crdt.NodeID(aliasID.Key)
	nameIsID := announce(laptop, string(phone), 1)
	garbage := announce(laptop, "laptop", 1)
	garbage.Value = []byte(`[1,2]`)
	noName := announce(laptop, "", 1)
	for name, r := range map[string]crdt.Record{
		"announcing another device":     forged,
		"deleting a revocation":         undo,
		"revoking a non-ID":             badKey,
		"value of the wrong shape":      garbage,
		"empty device name":             noName,
		"revoking in another's name":    inAnothersName,
		"revoking oneself":              revoke(phone, phone, 3),
		"an ID in a non-canonical form": aliasID,
		"a name that is a device ID":    nameIsID,
	} {
		if err := membership.Check(r); !errors.Is(err, crdt.ErrInvalid) {
			t.Errorf("%s: Check = %v, want ErrInvalid", name, err)
		}
	}
	for name, r := range map[string]crdt.Record{
		"own announcement": announce(laptop, "laptop", 1),
		"a revocation":     revoke(laptop, phone, 3),
		"a user record":    {NS: "tasks", Key: "t1", Value: []byte(`1`)},
		"a user tombstone": {NS: "tasks", Key: "t1", Deleted: true},
	} {
		if err := membership.Check(r); err != nil {
			t.Errorf("%s: Check = %v, want nil", name, err)
		}
	}
}

func TestRevocationRefusesOnlyWritesAfterTheCut(t *testing.T) {
	l := membership.NewList()
	l.Observe(announce(phone, "phone", 1))
	if !l.Admit(crdt.Version{Origin: phone, Seq: 100}) || l.Revoked(phone) {
		t.Fatal("a device is refused before it is revoked")
	}
	d, fresh := l.Observe(revoke(laptop, phone, 3))
	if !fresh || d.Name != "phone" || d.RevokedBy != laptop || d.Cut != 3 {
		t.Fatalf("Observe(revocation) = %+v, %v", d, fresh)
	}
	if !l.Revoked(phone) || l.Revoked(laptop) {
		t.Fatal("Revoked does not name exactly the revoked device")
	}
	if !l.Admit(crdt.Version{Origin: phone, Seq: 3}) {
		t.Error("a write at the cut is refused; replicas that hold it could never agree")
	}
	if l.Admit(crdt.Version{Origin: phone, Seq: 4}) {
		t.Error("a write after the cut is admitted")
	}
	if _, again := l.Observe(revoke(laptop, phone, 5)); again {
		t.Error("a higher cut reports a change")
	}
	if !l.Admit(crdt.Version{Origin: phone, Seq: 3}) || l.Admit(crdt.Version{Origin: phone, Seq: 4}) {
		t.Error("a second revocation with a higher cut raised the cut")
	}
	tablet := crdt.NodeID("12D3KooWLjQ9u1N9QzQ3JqXPwvEgSX5ZfnDBFfvwUBJ6t7mFbGVf")
	if d, lower := l.Observe(revoke(tablet, phone, 1)); !lower || d.Cut != 1 {
		t.Errorf("a lower cut from another revoker: %+v, %v; want it to hold", d, lower)
	}
	if l.Admit(crdt.Version{Origin: phone, Seq: 2}) {
		t.Error("the lowest cut does not hold")
	}
	// A later announcement by the revoked device does not lift it.
	l.Observe(announce(phone, "phone-renamed", 2))
	if !l.Revoked(phone) {
		t.Error("the revoked device's own announcement lifted its revocation")
	}
}

type fakeSource map[string][]crdt.Record

func (f fakeSource) List(ns, _, after string, limit int) ([]crdt.Record, bool, error) {
	var out []crdt.Record
	for _, r := range f[ns] {
		if r.Key > after {
			out = append(out, r)
		}
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func TestLoadRestoresRevocationsAfterRestart(t *testing.T) {
	l, err := membership.Load(fakeSource{
		membership.DevicesNS: {announce(laptop, "laptop", 1), announce(phone, "phone", 1)},
		membership.RevokedNS: {revoke(laptop, phone, 2)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Revoked(phone) || l.Admit(crdt.Version{Origin: phone, Seq: 3}) {
		t.Error("a revocation was forgotten across a restart")
	}
	devs := l.Devices()
	if len(devs) != 2 || devs[0].Name != "laptop" || devs[1].Name != "phone" || !devs[1].Revoked {
		t.Errorf("Devices = %+v", devs)
	}
}

func TestFindByNameOrID(t *testing.T) {
	l := membership.NewList()
	l.Observe(announce(laptop, "laptop", 1))
	l.Observe(announce(phone, "laptop", 1))
	if d, err := l.Find(string(phone)); err != nil || d.ID != phone {
		t.Errorf("Find(id) = %+v, %v", d, err)
	}
	if _, err := l.Find("laptop"); !errors.Is(err, membership.ErrAmbiguousDevice) {
		t.Errorf("Find(shared name) = %v, want ErrAmbiguousDevice", err)
	}
	if _, err := l.Find("tablet"); !errors.Is(err, membership.ErrUnknownDevice) {
		t.Errorf("Find(unknown name) = %v, want ErrUnknownDevice", err)
	}
	stranger := "12D3KooWLjQ9u1N9QzQ3JqXPwvEgSX5ZfnDBFfvwUBJ6t7mFbGVf"
	if d, err := l.Find(stranger); err != nil || string(d.ID) != stranger {
		t.Errorf("Find(unannounced id) = %+v, %v; a device can be revoked before it is heard of", d, err)
	}
}
