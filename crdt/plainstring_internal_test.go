package crdt

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// TestPlainJSONStringImpliesValid: the fast path never accepts what
// json.Valid would refuse, whatever the bytes; and it takes the strings
// sealed values are made of.
func TestPlainJSONStringImpliesValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		body := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "body")
		v := append(append([]byte{'"'}, body...), '"')
		if utf8.Valid(v) && plainJSONString(v) && !json.Valid(v) {
			t.Fatalf("fast path accepts invalid JSON %q", v)
		}
	})
	for _, v := range []string{`"sn1:AbC-_09"`, `""`, `"héllo"`} {
		if !plainJSONString([]byte(v)) {
			t.Errorf("%s: not taken by the fast path", v)
		}
	}
	for _, v := range []string{`"a\"b"`, `"a\nb"`, "\"a\tb\"", `"a`, `1`, `{"a":1}`, `"`} {
		if plainJSONString([]byte(v)) {
			t.Errorf("%s: taken by the fast path", v)
		}
	}
}
