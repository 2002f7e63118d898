package registry

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func TestReopenKeepsEverything(t *testing.T) {
	r := openTest(t)
	tokA, tokB := r.mustCreate(t, "laptop"), r.mustCreate(t, "phone")
	r.mustCreate(t, "old")
	p1, p2 := testPeer(t, 1), testPeer(t, 2)
	if _, err := r.Pair(tokA, p1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Pair(tokB, p2); err != nil {
		t.Fatal(err)
	}
	if err := r.Ack("laptop", crdt.Vector{"o1": 4, "o2": 9}, 77); err != nil {
		t.Fatal(err)
	}
	if err := r.MarkResync([]string{"phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Revoke("old"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Revoke("phone"); err != nil {
		t.Fatal(err)
	}
	before := r.List()

	r2 := reopen(t, r.path, r.clock)
	after := r2.List()
	if len(after) != len(before) {
		t.Fatalf("reopened with %d devices, want %d", len(after), len(before))
	}
	for i := range before {
		if !sameDevice(before[i], after[i]) {
			t.Errorf("device %d changed across reopen:\nbefore %+v\nafter  %+v", i, before[i], after[i])
		}
	}
	if d := mustAuth(t, r2, tokA); d.Name != "laptop" {
		t.Fatalf("reopened Authenticate = %q", d.Name)
	}
	if _, err := r2.Authenticate(tokB); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revocation lost across reopen: %v", err)
	}
	if !r2.Admitted(p1) || r2.Admitted(p2) || !r2.RevokedPeer(p2) {
		t.Fatal("peer bindings lost across reopen")
	}
	if _, err := r2.Pair(tokA, testPeer(t, 3)); !errors.Is(err, ErrTokenInUse) {
		t.Fatalf("pairing lost across reopen: %v", err)
	}
}

func sameDevice(a, b Device) bool {
	return a.Name == b.Name && a.Created.Equal(b.Created) && a.Revoked == b.Revoked &&
		a.RevokedAt.Equal(b.RevokedAt) && a.Peer == b.Peer && a.LastSeen.Equal(b.LastSeen) &&
		maps.Equal(a.Ack, b.Ack) && a.Cursor == b.Cursor && a.Resync == b.Resync
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	r := openTest(t)
	info, err := os.Stat(r.path)
	if err != nil {
		t.Fatalf("Open did not create the file: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %o, want 600", info.Mode().Perm())
	}
	if len(r.List()) != 0 {
		t.Fatal("a new registry is not empty")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "devices.json"), nil); err == nil {
		t.Fatal("Open succeeded in a directory that does not exist")
	}
}

func TestOpenRejectsCorruptFiles(t *testing.T) {
	r := openTest(t)
	r.mustCreate(t, "laptop")
	if _, err := r.Pair(r.mustCreate(t, "phone"), testPeer(t, 1)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	good := string(raw)
	entries, err := decodeFile(raw)
	if err != nil {
		t.Fatalf("decoding a file the registry wrote: %v", err)
	}
	id, phoneID := entries[0].cred.id, entries[1].cred.id
	peerText := testPeer(t, 1).String()

	cases := map[string]string{
		"garbage":        "not json",
		"truncated":      good[:len(good)/2],
		"version":        strings.Replace(good, `"version": 1`, `"version": 2`, 1),
		"duplicate name": strings.Replace(good, `"name": "phone"`, `"name": "laptop"`, 1),
		"duplicate id":   strings.Replace(good, phoneID, id, 1),
		"bad name":       strings.Replace(good, `"name": "phone"`, `"name": "ph one"`, 1),
		"bad id":         strings.Replace(good, id, "XYZ", 1),
		"huge memory":    strings.Replace(good, `"memory_kib": 64`, `"memory_kib": 4000000000`, 1),
		"zero time":      strings.Replace(good, `"time": 1`, `"time": 0`, 1),
		"key length":     strings.Replace(good, `"key_len": 32`, `"key_len": 33`, 1),
		"bad peer":       strings.Replace(good, peerText, "not-a-peer", 1),
		"short salt":     strings.Replace(good, `"salt": "`, `"salt": "AAAA", "x": "`, 1),
		"too big":        good + strings.Repeat(" ", maxFileSize),
	}
	for name, content := range cases {
		if content == good {
			t.Fatalf("%s: the corruption did not apply", name)
		}
		path := filepath.Join(t.TempDir(), "devices.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, nil); err == nil {
			t.Errorf("%s: Open accepted a corrupt file", name)
		}
	}
}

func TestFailedWriteChangesNothing(t *testing.T) {
	r := openTest(t)
	r.mustCreate(t, "laptop")
	huge := crdt.Vector{}
	for i := range 20000 {
		huge[crdt.NodeID(fmt.Sprintf("%064d", i))] = 1
	}
	if err := r.Ack("laptop", huge, 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Ack that outgrows the file: error = %v, want ErrTooLarge", err)
	}
	if d := r.List()[0]; len(d.Ack) != 0 || d.Cursor != 0 || !d.LastSeen.IsZero() {
		t.Fatalf("a failed write changed memory: %+v", d)
	}
	if r2 := reopen(t, r.path, r.clock); len(r2.List()) != 1 {
		t.Fatal("the file is unreadable after a refused write")
	}
}

func FuzzDecodeFile(f *testing.F) {
	r := openTest(f)
	tok := r.mustCreate(f, "laptop")
	if _, err := r.Pair(tok, testPeer(f, 1)); err != nil {
		f.Fatal(err)
	}
	if err := r.Ack("laptop", crdt.Vector{"o": 3}, 9); err != nil {
		f.Fatal(err)
	}
	raw, err := os.ReadFile(r.path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"version":1,"devices":null}`))
	f.Add([]byte(`{"version":1,"devices":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decodeFile(data)
		if err != nil {
			return
		}
		again, err := encodeFile(entries)
		if err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		back, err := decodeFile(again)
		if err != nil || len(back) != len(entries) {
			t.Fatalf("an accepted file does not round-trip: %v", err)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	tok, _, _ := newToken()
	f.Add(tok)
	f.Add("snr_")
	f.Add("snr_0123456789abcdef_" + strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := parseToken(s)
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("parse error %v is not ErrBadToken", err)
			}
			return
		}
		if rebuilt := tokenPrefix + id + "_" + secretEncoding.EncodeToString(secret); rebuilt != s {
			t.Fatalf("accepted non-canonical token %q (canonical %q)", s, rebuilt)
		}
	})
}
