// Package seal encrypts record values end to end, so that a relay, which is
// never given the group secret, stores and serves only ciphertext.
//
// A value is sealed with XChaCha20-Poly1305 under the group's value key
// (derived from the group secret with HKDF; see group.Secret.ValueKey). A
// sealed value is itself a JSON string, so it passes every record check on
// the way: "sn1:" followed by the unpadded base64url form of a random
// 24-byte nonce and the ciphertext. Its associated data binds the
// namespace, key and version (origin, seq and HLC), so a ciphertext cannot
// be moved to another key, nor replayed as another version.
//
// A thin client that writes through the relay's HTTP sync cannot know the
// version its write will get; it seals with SealKeyBound instead ("sn1k:"),
// which binds the namespace and key only. Its nonce is synthetic (derived
// from the key, the associated data and the plaintext), so a retried write
// seals to the same bytes and stays idempotent; the price is that the relay
// can tell when a key is set back to a value it held before.
//
// Namespaces under "open/" (and syncnode's own, starting with "_") are not
// encrypted: the relay and keyless thin clients can read them.
package seal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/syncnode/syncnode/crdt"
)

// Value prefixes, inside the JSON string.
const (
	// Prefix marks a value sealed with its version bound.
	Prefix = "sn1:"
	// KeyBoundPrefix marks a value sealed by a thin client, bound to its
	// namespace and key only.
	KeyBoundPrefix = "sn1k:"
	// OpenNamespace is the namespace under which values stay in the clear.
	OpenNamespace = "open"
)

var enc = base64.RawURLEncoding

// Errors.
var (
	// ErrNotSealed means a value in an encrypted namespace is not sealed.
	ErrNotSealed = fmt.Errorf("%w: plaintext value in an end-to-end encrypted namespace (write it sealed, or use a namespace under %s/)", crdt.ErrInvalid, OpenNamespace)
	// ErrOpen means a sealed value does not open: the key is wrong, or the
	// value was tampered with or moved to another key or version.
	ErrOpen = errors.New("sealed value does not open: wrong group key, or tampered with")
)

// Encrypted reports whether values in ns are sealed end to end.
func Encrypted(ns string) bool {
	return ns != OpenNamespace && !strings.HasPrefix(ns, OpenNamespace+"/") && !crdt.IsSystemNamespace(ns)
}

// IsSealed reports whether value has the form of a sealed value.
func IsSealed(value []byte) bool {
	s := string(value)
	return strings.HasPrefix(s, `"`+Prefix) || strings.HasPrefix(s, `"`+KeyBoundPrefix)
}

// Check reports whether rec may be stored as it is: a live record in an
// encrypted namespace must hold a sealed value. It needs no key, so a relay
// can enforce it.
func Check(rec crdt.Record) error {
	if rec.Deleted || !Encrypted(rec.NS) || IsSealed(rec.Value) {
		return nil
	}
	return fmt.Errorf("%s/%s: %w", rec.NS, rec.Key, ErrNotSealed)
}

// Overhead is the most sealing adds to a value's size.
const Overhead = 2 + len(KeyBoundPrefix) + (chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead)*4/3 + 4

// SealedSize is the size of a sealed value of n plaintext bytes, at most.
func SealedSize(n int) int { return n*4/3 + Overhead }

// Key is a group's value key.
type Key [chacha20poly1305.KeySize]byte

// Seal encrypts plain as the value of (ns, key) at version v, under a
// random nonce.
func (k *Key) Seal(ns, key string, v crdt.Version, plain []byte) ([]byte, error) {
	var nonce [chacha20poly1305.NonceSizeX]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("seal nonce: %w", err)
	}
	return k.seal(Prefix, nonce, ad(ns, key, &v), plain)
}

// SealKeyBound encrypts plain as the value of (ns, key), whatever version
// the relay gives it: what a thin client does. Equal inputs seal equally.
func (k *Key) SealKeyBound(ns, key string, plain []byte) ([]byte, error) {
	aad := ad(ns, key, nil)
	sub := sha256.Sum256(append([]byte("syncnode/siv/v1"), k[:]...))
	mac := hmac.New(sha256.New, sub[:])
	mac.Write(binary.AppendUvarint(nil, uint64(len(aad))))
	mac.Write(aad)
	mac.Write(plain)
	var nonce [chacha20poly1305.NonceSizeX]byte
	copy(nonce[:], mac.Sum(nil))
	return k.seal(KeyBoundPrefix, nonce, aad, plain)
}

// Open returns the plaintext of a sealed record value.
func (k *Key) Open(rec crdt.Record) ([]byte, error) {
	s := string(rec.Value)
	var body string
	var aad []byte
	switch {
	case strings.HasPrefix(s, `"`+Prefix) && strings.HasSuffix(s, `"`):
		body, aad = s[1+len(Prefix):len(s)-1], ad(rec.NS, rec.Key, &rec.Version)
	case strings.HasPrefix(s, `"`+KeyBoundPrefix) && strings.HasSuffix(s, `"`):
		body, aad = s[1+len(KeyBoundPrefix):len(s)-1], ad(rec.NS, rec.Key, nil)
	default:
		return nil, fmt.Errorf("seal open %s/%s: %w", rec.NS, rec.Key, ErrNotSealed)
	}
	raw, err := enc.DecodeString(body)
	if err != nil || len(raw) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("seal open %s/%s: %w", rec.NS, rec.Key, ErrOpen)
	}
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, fmt.Errorf("seal open: %w", err)
	}
	nonce, ct := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	plain, err := aead.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("seal open %s/%s: %w", rec.NS, rec.Key, ErrOpen)
	}
	return plain, nil
}

func (k *Key) seal(prefix string, nonce [chacha20poly1305.NonceSizeX]byte, aad, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	raw := make([]byte, 0, chacha20poly1305.NonceSizeX+len(plain)+chacha20poly1305.Overhead)
	raw = append(raw, nonce[:]...)
	raw = aead.Seal(raw, nonce[:], plain, aad)
	out := make([]byte, 0, 2+len(prefix)+enc.EncodedLen(len(raw)))
	out = append(out, '"')
	out = append(out, prefix...)
	out = enc.AppendEncode(out, raw)
	return append(out, '"'), nil
}

// ad is the associated data: a label, the namespace and key, and the
// version unless v is nil, each length-prefixed so no two tuples collide.
func ad(ns, key string, v *crdt.Version) []byte {
	b := []byte("syncnode/value/v1")
	b = binary.AppendUvarint(b, uint64(len(ns)))
	b = append(b, ns...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	if v != nil {
		b = binary.AppendUvarint(b, uint64(len(v.Origin)))
		b = append(b, v.Origin...)
		b = binary.AppendUvarint(b, v.Seq)
		b = binary.AppendUvarint(b, uint64(v.HLC))
	}
	return b
}
