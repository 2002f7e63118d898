package crdt_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// requireValid asserts err is nil when valid, and otherwise wraps ErrInvalid.
func requireValid(t *testing.T, what string, err error, valid bool) {
	t.Helper()
	switch {
	case valid && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case !valid && !errors.Is(err, crdt.ErrInvalid):
		t.Errorf("%s: err = %v, want ErrInvalid", what, err)
	}
}

func TestValidateNamespace(t *testing.T) {
	tests := []struct {
		ns    string
		valid bool
	}{
		{"tasks", true},
		{"work/tasks", true},
		{"A-Z_0.9", true},
		{"v1.2/...", true}, // only "." and ".." are path tricks
		{"_system", true},  // syntactically fine; IsSystemNamespace reserves it
		{strings.Repeat("n", crdt.MaxNamespaceLen), true},
		{"", false},
		{strings.Repeat("n", crdt.MaxNamespaceLen+1), false},
		{"/tasks", false},
		{"tasks/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/../b", false},
		{"a/./b", false},
		{"my tasks", false},
		{"täsks", false},
		{"a\x00b", false},
		{`a\b`, false},
		{"a:b", false},
		{"a*", false},
	}
	for _, tt := range tests {
		requireValid(t, "ValidateNamespace("+tt.ns+")", crdt.ValidateNamespace(tt.ns), tt.valid)
	}
}

func TestIsSystemNamespace(t *testing.T) {
	tests := map[string]bool{
		"_":         true,
		"_system":   true,
		"_sys/keys": true,
		"":          false,
		"tasks":     false,
		"tasks/_x":  false,
		"x_":        false,
	}
	for ns, want := range tests {
		if got := crdt.IsSystemNamespace(ns); got != want {
			t.Errorf("IsSystemNamespace(%q) = %v, want %v", ns, got, want)
		}
	}
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		valid bool
	}{
		{"simple", "k", true},
		{"any printable", "with space/and:colon?#", true},
		{"unicode", "ünïcødé 🙂", true},
		{"max bytes", strings.Repeat("k", crdt.MaxKeyLen), true},
		{"max bytes multibyte", strings.Repeat("k", crdt.MaxKeyLen-2) + "é", true},
		{"empty", "", false},
		{"too long", strings.Repeat("k", crdt.MaxKeyLen+1), false},
		{"too long in bytes not runes", strings.Repeat("k", crdt.MaxKeyLen-1) + "é", false},
		{"NUL", "a\x00b", false},
		{"invalid UTF-8", "\xff", false},
		{"truncated UTF-8", "\xe2\x82", false},
	}
	for _, tt := range tests {
		requireValid(t, tt.name, crdt.ValidateKey(tt.key), tt.valid)
	}
}

func TestValidateValue(t *testing.T) {
	bigString := func(n int) []byte { return []byte(`"` + strings.Repeat("v", n-2) + `"`) }
	tests := []struct {
		name  string
		value []byte
		valid bool
	}{
		{"number", []byte(`1`), true},
		{"string", []byte(`"x"`), true},
		{"object", []byte(`{"a":[1,2,{"b":null}]}`), true},
		{"null", []byte(`null`), true},
		{"surrounding whitespace", []byte(" {\"a\":1}\n"), true},
		{"exactly max size", bigString(crdt.MaxValueSize), true},
		{"over max size", bigString(crdt.MaxValueSize + 1), false},
		{"nil", nil, false},
		{"empty", []byte{}, false},
		{"unterminated", []byte(`{"a":`), false},
		{"two values", []byte(`1 2`), false},
		{"single quotes", []byte(`{'a':1}`), false},
		{"bare word", []byte(`undefined`), false},
		{"invalid UTF-8 string", []byte("\"\xff\""), false},
	}
	for _, tt := range tests {
		requireValid(t, tt.name, crdt.ValidateValue(tt.value), tt.valid)
	}
}

func TestRecordValidate(t *testing.T) {
	good := func() crdt.Record {
		return crdt.Record{
			NS: "tasks", Key: "k", Value: []byte(`{"done":false}`),
			Version: crdt.Version{HLC: crdt.NewTimestamp(1_700_000_000_000, 0), Origin: "node-a", Seq: 1},
		}
	}
	tests := []struct {
		name   string
		mutate func(*crdt.Record)
		valid  bool
	}{
		{"live record", func(*crdt.Record) {}, true},
		{"tombstone", func(r *crdt.Record) { r.Deleted, r.Value = true, nil }, true},
		{"tombstone with empty value", func(r *crdt.Record) { r.Deleted, r.Value = true, []byte{} }, true},
		// Only syncnode may write system namespaces; that is the caller's
		// check, since syncnode's own records pass through Validate too.
		{"system namespace", func(r *crdt.Record) { r.NS = "_system" }, true},
		{"max origin", func(r *crdt.Record) { r.Version.Origin = crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen)) }, true},
		{"bad namespace", func(r *crdt.Record) { r.NS = "a/../b" }, false},
		{"empty namespace", func(r *crdt.Record) { r.NS = "" }, false},
		{"bad key", func(r *crdt.Record) { r.Key = "a\x00" }, false},
		{"empty origin", func(r *crdt.Record) { r.Version.Origin = "" }, false},
		{"origin too long", func(r *crdt.Record) { r.Version.Origin = crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen+1)) }, false},
		{"zero seq", func(r *crdt.Record) { r.Version.Seq = 0 }, false},
		{"zero hlc", func(r *crdt.Record) { r.Version.HLC = 0 }, false},
		{"tombstone with value", func(r *crdt.Record) { r.Deleted = true }, false},
		{"live without value", func(r *crdt.Record) { r.Value = nil }, false},
		{"non-JSON value", func(r *crdt.Record) { r.Value = []byte(`{done}`) }, false},
		{"value over max size", func(r *crdt.Record) {
			r.Value = []byte(`"` + strings.Repeat("v", crdt.MaxStoredValueSize) + `"`)
		}, false},
	}
	for _, tt := range tests {
		r := good()
		tt.mutate(&r)
		requireValid(t, tt.name, r.Validate(), tt.valid)
	}
}
