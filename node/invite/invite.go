package invite

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/group"
)

// A join code is Prefix followed by the unpadded base64url form of:
//
//	version  1 byte (Version)
//	secret   32 bytes
//	count    1 byte, at most MaxAddrs
//	count ×  uvarint length, then that many multiaddr bytes
//	checksum first 4 bytes of SHA-256 over everything before it
//
// The checksum catches typos and truncation. A future version (expiring
// codes, for one) gets a new version byte; old versions stay decodable.
const (
	// Prefix starts every join code.
	Prefix = "syncnode1-"
	// Version is the format version this package writes.
	Version byte = 1
	// MaxCodeLen bounds the length of a code, prefix included.
	MaxCodeLen = 4096
	// MaxAddrs bounds the number of addresses in a code.
	MaxAddrs = 32
)

const (
	checksumLen = 4
	headerLen   = 1 + group.SecretSize + 1 // version, secret, count
)

// enc is lenient about the unused low bits of the last character, so that a
// code cut short reports ErrChecksum; the checksum covers the decoded bytes.
var enc = base64.RawURLEncoding

// alphabet is enc's alphabet plus the line breaks its decoder skips, so a
// code wrapped across lines still decodes.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_\r\n"

// maxPayload is the largest binary form that fits in MaxCodeLen.
var maxPayload = enc.DecodedLen(MaxCodeLen - len(Prefix))

// Errors returned by Decode, each wrapped with detail.
var (
	// ErrPrefix means the text does not start with Prefix.
	ErrPrefix = errors.New("not a syncnode join code (it should start with " + Prefix + ")")
	// ErrTooLong means the code exceeds MaxCodeLen or MaxAddrs.
	ErrTooLong = errors.New("join code is too long")
	// ErrEncoding means the code holds characters outside base64url.
	ErrEncoding = errors.New("join code has invalid characters")
	// ErrTruncated means the code is too short to hold its contents.
	ErrTruncated = errors.New("join code is incomplete")
	// ErrChecksum means the code was mistyped or cut short.
	ErrChecksum = errors.New("join code checksum does not match: it was mistyped or cut short")
	// ErrVersion means the code was made by a newer syncnode.
	ErrVersion = errors.New("join code version is not supported (made by a newer syncnode?)")
	// ErrMalformed means the code passed its checksum but its content is
	// invalid.
	ErrMalformed = errors.New("join code is malformed")
)

// Invite is what a join code carries.
type Invite struct {
	// Secret is the group secret.
	Secret group.Secret
	// Addrs are the inviting device's addresses, each ending in /p2p/<id>.
	Addrs []ma.Multiaddr
}

// Encode returns the join code for inv. Every code it returns decodes: it
// leaves out addresses without a /p2p/ peer ID, and those beyond MaxAddrs or
// beyond what fits in MaxCodeLen. The first addresses are kept, so list the
// best ones first.
func Encode(inv Invite) string {
	payload := make([]byte, headerLen, 256)
	payload[0] = Version
	copy(payload[1:], inv.Secret[:])
	count := 0
	for _, a := range inv.Addrs {
		if _, id := peer.SplitAddr(a); id == "" {
			continue
		}
		b := a.Bytes()
		next := binary.AppendUvarint(payload, uint64(len(b)))
		next = append(next, b...)
		if count == MaxAddrs || len(next)+checksumLen > maxPayload {
			break
		}
		payload = next
		count++
	}
	payload[headerLen-1] = byte(count)
	return wrap(Prefix, payload)
}

// Decode parses a join code, ignoring surrounding whitespace. It bounds the
// input before decoding it, and reports why a code is invalid.
func Decode(code string) (Invite, error) {
	payload, err := unwrap(code, Prefix, headerLen)
	if err != nil {
		return Invite{}, fmt.Errorf("invite decode: %w", err)
	}
	inv, err := parsePayload(payload)
	if err != nil {
		return Invite{}, fmt.Errorf("invite decode: %w", err)
	}
	return inv, nil
}

// wrap returns prefix and the base64url form of payload and its checksum.
func wrap(prefix string, payload []byte) string {
	sum := checksum(payload)
	return prefix + enc.EncodeToString(append(payload, sum[:]...))
}

// unwrap undoes wrap: it checks the prefix, alphabet, length, checksum and
// version byte, and returns the payload, at least minLen bytes long.
func unwrap(code, prefix string, minLen int) ([]byte, error) {
	code = strings.TrimSpace(code)
	if len(code) > MaxCodeLen {
		return nil, fmt.Errorf("%d characters, at most %d: %w", len(code), MaxCodeLen, ErrTooLong)
	}
	body, ok := strings.CutPrefix(code, prefix)
	if !ok {
		return nil, ErrPrefix
	}
	if i := strings.IndexFunc(body, func(r rune) bool { return !strings.ContainsRune(alphabet, r) }); i >= 0 {
		return nil, fmt.Errorf("character %d: %w", len(prefix)+i+1, ErrEncoding)
	}
	raw, err := enc.DecodeString(body)
	if err != nil {
		// Every character is valid, so the length is not.
		return nil, ErrTruncated
	}
	if len(raw) < minLen+checksumLen {
		return nil, ErrTruncated
	}
	payload := raw[:len(raw)-checksumLen]
	if sum := checksum(payload); !bytes.Equal(sum[:], raw[len(payload):]) {
		return nil, ErrChecksum
	}
	if payload[0] != Version {
		return nil, fmt.Errorf("version %d: %w", payload[0], ErrVersion)
	}
	return payload, nil
}

// parsePayload reads a version-1 payload whose checksum has been verified.
func parsePayload(p []byte) (Invite, error) {
	var inv Invite
	copy(inv.Secret[:], p[1:])
	count := int(p[headerLen-1])
	if count > MaxAddrs {
		return Invite{}, fmt.Errorf("%d addresses, at most %d: %w", count, MaxAddrs, ErrTooLong)
	}
	rest := p[headerLen:]
	inv.Addrs = make([]ma.Multiaddr, 0, count)
	for i := range count {
		n, used := binary.Uvarint(rest)
		if used <= 0 || n > uint64(len(rest)-used) {
			return Invite{}, fmt.Errorf("address %d: %w", i+1, ErrTruncated)
		}
		rest = rest[used:]
		a, err := parseAddr(rest[:n])
		if err != nil {
			return Invite{}, fmt.Errorf("address %d: %w (%v)", i+1, ErrMalformed, err)
		}
		inv.Addrs = append(inv.Addrs, a)
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return Invite{}, fmt.Errorf("%d unexpected trailing bytes: %w", len(rest), ErrMalformed)
	}
	return inv, nil
}

// parseAddr parses a multiaddr that must name its peer.
func parseAddr(b []byte) (ma.Multiaddr, error) {
	a, err := ma.NewMultiaddrBytes(b)
	if err != nil {
		return nil, err
	}
	if _, id := peer.SplitAddr(a); id == "" {
		return nil, fmt.Errorf("%s has no /p2p/ peer ID", a)
	}
	return a, nil
}

// checksum returns the first checksumLen bytes of SHA-256(p).
func checksum(p []byte) [checksumLen]byte {
	sum := sha256.Sum256(p)
	return [checksumLen]byte(sum[:checksumLen])
}
