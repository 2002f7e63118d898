package group

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/libp2p/go-libp2p/core/pnet"
	"golang.org/x/crypto/hkdf"
)

// SecretSize is the length of a group secret in bytes.
const SecretSize = 32

// ErrBadSecret is returned when text does not hold a well-formed secret.
var ErrBadSecret = errors.New("group secret must be 64 hex characters")

// Secret is a group's shared secret. Every device of the group holds the same
// secret; all group keys are derived from it with HKDF-SHA256, each under its
// own info label, so that no derived value reveals the secret or another key.
type Secret [SecretSize]byte

// HKDF info labels. Changing one changes every key derived with it, so each
// carries a version.
const (
	infoPSK   = "syncnode/pnet/v1"
	infoValue = "syncnode/value/v1"
	infoHint  = "syncnode/mdns-hint/v1"
	infoTopic = "syncnode/topic/v1"
)

// TopicPrefix starts every group's gossip topic name.
const TopicPrefix = "syncnode/v1/"

// NewSecret returns a fresh random secret from crypto/rand.
func NewSecret() (Secret, error) {
	var s Secret
	if _, err := io.ReadFull(rand.Reader, s[:]); err != nil {
		return Secret{}, fmt.Errorf("group new secret: %w", err)
	}
	return s, nil
}

// ParseSecret parses the hex form written by String, ignoring surrounding
// whitespace and letter case.
func ParseSecret(text string) (Secret, error) {
	var s Secret
	if err := s.UnmarshalText([]byte(text)); err != nil {
		return Secret{}, err
	}
	return s, nil
}

// String returns the secret as lowercase hex.
func (s Secret) String() string { return hex.EncodeToString(s[:]) }

// MarshalText implements encoding.TextMarshaler with the String form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// ParseSecret accepts.
func (s *Secret) UnmarshalText(text []byte) error {
	t := strings.TrimSpace(string(text))
	if len(t) != hex.EncodedLen(SecretSize) {
		return fmt.Errorf("group parse secret: got %d characters: %w", len(t), ErrBadSecret)
	}
	var out Secret
	if _, err := hex.Decode(out[:], []byte(t)); err != nil {
		return fmt.Errorf("group parse secret: %w", ErrBadSecret)
	}
	*s = out
	return nil
}

// PSK returns the libp2p private-network key: peers without it cannot
// complete a connection handshake with the group's hosts.
func (s Secret) PSK() pnet.PSK { return pnet.PSK(s.derive(infoPSK, 32)) }

// ValueKey returns the key that encrypts record values.
func (s Secret) ValueKey() [32]byte { return [32]byte(s.derive(infoValue, 32)) }

// Hint returns 16 lowercase hex characters that LAN peers advertise so that
// group members recognise each other. It is a one-way derivation: it reveals
// neither the secret nor any key.
func (s Secret) Hint() string { return hex.EncodeToString(s.derive(infoHint, 8)) }

// Topic returns the group's gossip topic name: TopicPrefix followed by 16
// hex characters.
func (s Secret) Topic() string { return TopicPrefix + hex.EncodeToString(s.derive(infoTopic, 8)) }

// derive expands n bytes of key material for the given info label.
func (s Secret) derive(info string, n int) []byte {
	out := make([]byte, n)
	// HKDF-SHA256 can expand up to 255*32 bytes; n is always far below, so
	// the read cannot fail.
	if _, err := io.ReadFull(hkdf.New(sha256.New, s[:], nil, []byte(info)), out); err != nil {
		panic("group: hkdf expand: " + err.Error())
	}
	return out
}
