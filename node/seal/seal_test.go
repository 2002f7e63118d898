package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

var (
	k1 = Key{1}
	k2 = Key{2}
	v1 = crdt.Version{HLC: 100, Origin: "12D3KooWA", Seq: 7}
)

func sealed(t *testing.T, ns, key string, v crdt.Version, plain string) crdt.Record {
	t.Helper()
	val, err := k1.Seal(ns, key, v, []byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	return crdt.Record{NS: ns, Key: key, Value: val, Version: v}
}

func TestSealOpenRoundTrip(t *testing.T) {
	rec := sealed(t, "tasks", "t1", v1, `{"title":"secret-marker"}`)
	if bytes.Contains(rec.Value, []byte("secret-marker")) {
		t.Fatal("the sealed value holds the plaintext")
	}
	if !json.Valid(rec.Value) || !IsSealed(rec.Value) || crdt.ValidateValue(rec.Value) != nil {
		t.Fatalf("a sealed value is not a valid JSON record value: %s", rec.Value)
	}
	got, err := k1.Open(rec)
	if err != nil || string(got) != `{"title":"secret-marker"}` {
		t.Fatalf("Open = %s, %v", got, err)
	}
	again := sealed(t, "tasks", "t1", v1, `{"title":"secret-marker"}`)
	if bytes.Equal(again.Value, rec.Value) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
}

func TestSealedValueCannotMove(t *testing.T) {
	rec := sealed(t, "tasks", "t1", v1, `1`)
	for name, moved := range map[string]crdt.Record{
		"another key":       {NS: "tasks", Key: "t2", Value: rec.Value, Version: v1},
		"another namespace": {NS: "notes", Key: "t1", Value: rec.Value, Version: v1},
		"another seq":       {NS: "tasks", Key: "t1", Value: rec.Value, Version: crdt.Version{HLC: 100, Origin: v1.Origin, Seq: 8}},
		"another clock":     {NS: "tasks", Key: "t1", Value: rec.Value, Version: crdt.Version{HLC: 101, Origin: v1.Origin, Seq: 7}},
		"another origin":    {NS: "tasks", Key: "t1", Value: rec.Value, Version: crdt.Version{HLC: 100, Origin: "12D3KooWB", Seq: 7}},
	} {
		if _, err := k1.Open(moved); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open = %v, want ErrOpen", name, err)
		}
	}
	if _, err := k2.Open(rec); !errors.Is(err, ErrOpen) {
		t.Errorf("another group's key: %v, want ErrOpen", err)
	}
	tampered := rec
	tampered.Value = bytes.Clone(rec.Value)
	tampered.Value[10] ^= 1
	if _, err := k1.Open(tampered); err == nil {
		t.Error("a tampered value opened")
	}
}

func TestKeyBoundSealOpensAtAnyVersion(t *testing.T) {
	val, err := k1.SealKeyBound("tasks", "t1", []byte(`"thin"`))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []crdt.Version{v1, {HLC: 5, Origin: "relay", Seq: 1}} {
		got, err := k1.Open(crdt.Record{NS: "tasks", Key: "t1", Value: val, Version: v})
		if err != nil || string(got) != `"thin"` {
			t.Errorf("at %v: %s, %v", v, got, err)
		}
	}
	if _, err := k1.Open(crdt.Record{NS: "tasks", Key: "t2", Value: val, Version: v1}); !errors.Is(err, ErrOpen) {
		t.Errorf("moved to another key: %v", err)
	}
	// A retry seals to the same bytes; another value or key does not.
	again, _ := k1.SealKeyBound("tasks", "t1", []byte(`"thin"`))
	other, _ := k1.SealKeyBound("tasks", "t1", []byte(`"thin!"`))
	moved, _ := k1.SealKeyBound("tasks", "t2", []byte(`"thin"`))
	if !bytes.Equal(again, val) || bytes.Equal(other, val) || bytes.Equal(moved, val) {
		t.Error("key-bound sealing is not deterministic in exactly its inputs")
	}
}

func TestCheckRefusesPlaintextInEncryptedNamespaces(t *testing.T) {
	for _, tc := range []struct {
		rec crdt.Record
		ok  bool
	}{
		{crdt.Record{NS: "tasks", Key: "k", Value: []byte(`{"a":1}`)}, false},
		{crdt.Record{NS: "tasks", Key: "k", Value: []byte(`"sn1:looks-sealed"`)}, true},
		{crdt.Record{NS: "tasks", Key: "k", Deleted: true}, true},
		{crdt.Record{NS: "open", Key: "k", Value: []byte(`1`)}, true},
		{crdt.Record{NS: "open/board", Key: "k", Value: []byte(`1`)}, true},
		{crdt.Record{NS: "opened", Key: "k", Value: []byte(`1`)}, false},
		{crdt.Record{NS: "_devices", Key: "k", Value: []byte(`1`)}, true},
	} {
		err := Check(tc.rec)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s = %s) = %v, want ok=%v", tc.rec.NS, tc.rec.Value, err, tc.ok)
		}
		if err != nil && !errors.Is(err, crdt.ErrInvalid) {
			t.Errorf("Check error %v does not wrap crdt.ErrInvalid", err)
		}
	}
}

func TestSealedSizeBound(t *testing.T) {
	for _, n := range []int{0, 1, 100, crdt.MaxValueSize} {
		val, err := k1.SealKeyBound("tasks", "t", bytes.Repeat([]byte("x"), n))
		if err != nil {
			t.Fatal(err)
		}
		if len(val) > SealedSize(n) {
			t.Errorf("%d bytes sealed to %d, over SealedSize %d", n, len(val), SealedSize(n))
		}
	}
}
