package crdt

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits on what a record may hold. They are part of the documented
// contract: the local API, the relay and every wire decoder enforce them.
const (
	// MaxValueSize is the largest JSON value a client may write, in bytes.
	MaxValueSize = 1 << 20
	// MaxStoredValueSize is the largest value a record may carry on the
	// wire and on disk: a value of MaxValueSize once sealed end to end
	// (base64 of the ciphertext, a nonce and a tag) fits in it.
	MaxStoredValueSize = MaxValueSize/3*4 + 4<<10
	// MaxKeyLen is the longest key, in bytes of UTF-8.
	MaxKeyLen = 512
	// MaxNamespaceLen is the longest namespace, in bytes.
	MaxNamespaceLen = 128
	// MaxOriginLen is the longest origin node ID, in bytes.
	MaxOriginLen = 128
)

// SystemNamespacePrefix starts every namespace syncnode reserves for itself.
const SystemNamespacePrefix = "_"

// ErrInvalid is wrapped by every validation failure below.
var ErrInvalid = errors.New("invalid record")

// ErrRevoked means a record's origin is a revoked device: it is refused
// whatever its content.
var ErrRevoked = errors.New("record by a revoked device")

// ValidateNamespace checks a namespace: 1 to MaxNamespaceLen bytes of
// segments separated by '/', each segment made of ASCII letters, digits,
// '_', '-' and '.', and not "." or "..". A leading '_' marks a system
// namespace, which only syncnode itself may write.
func ValidateNamespace(ns string) error {
	if ns == "" {
		return fmt.Errorf("%w: empty namespace", ErrInvalid)
	}
	if len(ns) > MaxNamespaceLen {
		return fmt.Errorf("%w: namespace longer than %d bytes", ErrInvalid, MaxNamespaceLen)
	}
	segStart := 0
	for i := 0; i <= len(ns); i++ {
		if i == len(ns) || ns[i] == '/' {
			seg := ns[segStart:i]
			if seg == "" || seg == "." || seg == ".." {
				return fmt.Errorf("%w: namespace %q has an empty or dot segment", ErrInvalid, ns)
			}
			segStart = i + 1
			continue
		}
		if !nsChar(ns[i]) {
			return fmt.Errorf("%w: namespace %q: character %q not allowed (use A-Z a-z 0-9 _ - . /)", ErrInvalid, ns, ns[i])
		}
	}
	return nil
}

// IsSystemNamespace reports whether ns is reserved for syncnode itself.
func IsSystemNamespace(ns string) bool {
	return len(ns) > 0 && ns[:1] == SystemNamespacePrefix
}

func nsChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

// ValidateKey checks a key: 1 to MaxKeyLen bytes of valid UTF-8 with no NUL.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalid, MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key is not valid UTF-8", ErrInvalid)
	}
	for i := 0; i < len(key); i++ {
		if key[i] == 0 {
			return fmt.Errorf("%w: key contains NUL", ErrInvalid)
		}
	}
	return nil
}

// ValidateValue checks that v is one JSON value no larger than MaxValueSize,
// encoded as UTF-8 as RFC 8259 requires between systems. json.Valid alone
// accepts invalid UTF-8 inside strings, which other decoders reject or
// rewrite, so the same bytes would read differently on different clients.
func ValidateValue(v []byte) error { return validateValue(v, MaxValueSize) }

func validateValue(v []byte, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%w: value of %d bytes exceeds the %d-byte limit", ErrInvalid, len(v), limit)
	}
	if !utf8.Valid(v) {
		return fmt.Errorf("%w: value is not valid UTF-8", ErrInvalid)
	}
	if !plainJSONString(v) && !json.Valid(v) {
		return fmt.Errorf("%w: value is not valid JSON", ErrInvalid)
	}
	return nil
}

// plainJSONString reports whether v, already known to be valid UTF-8, is a
// JSON string without escapes: a quote, no quote, backslash or control
// character, a quote. Every sealed value has that form, and checking it
// costs a fraction of json.Valid's state machine, which was a tenth of a
// large catch-up.
func plainJSONString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Validate checks a whole record as received from a peer.
func (r Record) Validate() error {
	if err := ValidateNamespace(r.NS); err != nil {
		return err
	}
	if err := ValidateKey(r.Key); err != nil {
		return err
	}
	v := r.Version
	if v.Origin == "" || len(v.Origin) > MaxOriginLen {
		return fmt.Errorf("%w: bad origin length %d", ErrInvalid, len(v.Origin))
	}
	if v.Seq == 0 || v.HLC == 0 {
		return fmt.Errorf("%w: zero seq or hlc", ErrInvalid)
	}
	if r.Deleted {
		if len(r.Value) != 0 {
			return fmt.Errorf("%w: tombstone carries a value", ErrInvalid)
		}
		return nil
	}
	return validateValue(r.Value, MaxStoredValueSize)
}
