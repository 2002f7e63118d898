package crdt_test

import (
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

func TestVersionCompareIsATotalOrderOnHLCThenOrigin(t *testing.T) {
	genVersion := rapid.Custom(func(t *rapid.T) crdt.Version {
		return crdt.Version{
			HLC:    crdt.Timestamp(rapid.Uint64Range(0, 3).Draw(t, "hlc")),
			Origin: rapid.SampledFrom(testOrigins).Draw(t, "origin"),
			Seq:    rapid.Uint64Range(0, 3).Draw(t, "seq"),
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b := genVersion.Draw(t, "a"), genVersion.Draw(t, "b")
		want := 0
		switch {
		case a.HLC > b.HLC, a.HLC == b.HLC && a.Origin > b.Origin:
			want = 1
		case a.HLC < b.HLC, a.HLC == b.HLC && a.Origin < b.Origin:
			want = -1
		}
		if got := a.Compare(b); got != want {
			t.Fatalf("%v.Compare(%v) = %d, want %d", a, b, got, want)
		}
		if a.Compare(b) != -b.Compare(a) {
			t.Fatalf("Compare is not antisymmetric for %v, %v", a, b)
		}
	})
}

func TestVersionIsZeroAndString(t *testing.T) {
	if !(crdt.Version{}).IsZero() {
		t.Error("zero Version: IsZero() = false")
	}
	v := crdt.Version{HLC: crdt.NewTimestamp(1, 2), Origin: "node-a", Seq: 7}
	if v.IsZero() {
		t.Errorf("%v: IsZero() = true", v)
	}
	if got, want := v.String(), "65538@node-a#7"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
