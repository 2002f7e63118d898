package crdt_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func TestSignedRecordRoundTrip(t *testing.T) {
	r := crdt.Record{NS: "tasks", Key: "k", Value: []byte(`1`), Version: crdt.Version{HLC: 9, Origin: "o", Seq: 2}, Sig: []byte("signature")}
	enc := crdt.AppendRecord(nil, r)
	if len(enc) != crdt.EncodedSize(r) {
		t.Fatalf("EncodedSize %d, encoding %d bytes", crdt.EncodedSize(r), len(enc))
	}
	got, n, err := crdt.DecodeRecord(enc)
	if err != nil || n != len(enc) || !bytes.Equal(got.Sig, r.Sig) || string(got.Value) != "1" {
		t.Fatalf("decoded %+v, %d, %v", got, n, err)
	}
	if _, _, err := crdt.DecodeRecord(enc[:len(enc)-2]); !errors.Is(err, crdt.ErrCorrupt) {
		t.Errorf("a cut signature decodes: %v", err)
	}
	// The signature covers everything but itself, and only that.
	unsigned := r
	unsigned.Sig = nil
	if !bytes.Equal(crdt.SigningBytes(r), crdt.SigningBytes(unsigned)) {
		t.Error("the signed bytes depend on the signature")
	}
	moved := r
	moved.Key = "other"
	if bytes.Equal(crdt.SigningBytes(r), crdt.SigningBytes(moved)) {
		t.Error("the signed bytes do not cover the key")
	}
	// A record written before signing still decodes, unsigned.
	old, _, err := crdt.DecodeRecord(crdt.AppendRecord(nil, unsigned))
	if err != nil || old.Sig != nil {
		t.Errorf("unsigned record: %+v, %v", old, err)
	}
}
