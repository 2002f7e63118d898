package invite

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A join code is Prefix followed by the unpadded base64url form of:
//
//	version  1 byte (Version)
//	token    TokenSize bytes: the one-time token
//	expires  8 bytes: big-endian Unix seconds
//	peer     uvarint length, then that many bytes: the invite host's peer ID
//	count    1 byte, 1 to MaxAddrs
//	count ×  uvarint length, then that many multiaddr bytes: the invite
//	         host's addresses, without /p2p/ (the peer above names it)
//	checksum first 4 bytes of SHA-256 over everything before it
//
// The checksum catches typos and truncation. Version 1 codes carried the
// group secret itself; they are refused with ErrOldVersion.
const (
	// Prefix starts every join code.
	Prefix = "syncnode1-"
	// Version is the format version this package writes.
	Version byte = 2
	// MaxCodeLen bounds the length of a code, prefix included.
	MaxCodeLen = 4096
	// MaxAddrs bounds the number of addresses in a code or an answer.
	MaxAddrs = 32
	// TokenSize is the length of a one-time token in bytes.
	TokenSize = 16
)

// oldVersion is the format that carried the group secret in the clear.
const oldVersion byte = 1

const (
	checksumLen = 4
	headerLen   = 1 + TokenSize + 8 // version, token, expiry
	// maxPeerIDLen bounds a peer ID's bytes: an identity multihash of an
	// Ed25519 key is 38, a SHA-256 one 34.
	maxPeerIDLen = 128
)

// enc is lenient about the unused low bits of the last character, so that a
// code cut short reports ErrChecksum; the checksum covers the decoded bytes.
var enc = base64.RawURLEncoding

// alphabet is enc's alphabet plus the line breaks its decoder skips, so a
// code wrapped across lines still decodes.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_\r\n"

// maxPayload is the largest binary form that fits in MaxCodeLen.
var maxPayload = enc.DecodedLen(MaxCodeLen - len(Prefix))

// Errors returned by Encode and Decode, each wrapped with detail.
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
	// ErrOldVersion means the code was made by an older syncnode, whose
	// codes carried the group secret itself and never expired.
	ErrOldVersion = errors.New("join code was made by an older syncnode: ask for a new code")
	// ErrMalformed means the code passed its checksum but its content is
	// invalid, or an invite given to Encode cannot make a code.
	ErrMalformed = errors.New("join code is malformed")
)

// Token is a one-time invite token: random, and worth the group secret to
// whoever redeems it first, until it expires.
type Token [TokenSize]byte

// Invite is what a join code carries: how to reach the inviter's invite host
// and what to hand it. It holds no group secret.
type Invite struct {
	// Token is redeemed once for the group secret.
	Token Token
	// Expires is when the inviter stops honouring Token, in whole seconds.
	Expires time.Time
	// Peer is the invite host's peer ID. Dialling it authenticates the
	// host (Noise), so nobody in between can pose as the inviter.
	Peer peer.ID
	// Addrs are the invite host's addresses, without /p2p/.
	Addrs []ma.Multiaddr
}

// AddrInfo returns the invite host's peer ID and addresses, for dialling.
func (inv Invite) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: inv.Peer, Addrs: inv.Addrs}
}

// Expired reports whether the code is no longer valid at now.
func (inv Invite) Expired(now time.Time) bool { return !now.Before(inv.Expires) }

// Encode returns the join code for inv. Every code it returns decodes. It
// keeps each address in the form host/port (a trailing /p2p/ naming
// inv.Peer is dropped) and leaves out addresses of another peer or through
// a relay, those beyond MaxAddrs and those beyond what fits in MaxCodeLen.
// The first addresses are kept, so list the best ones first. It fails with
// ErrMalformed if inv.Peer is not a valid peer ID or no address is left.
func Encode(inv Invite) (string, error) {
	id := []byte(inv.Peer)
	if _, err := peer.IDFromBytes(id); err != nil || len(id) > maxPeerIDLen {
		return "", fmt.Errorf("invite encode: peer ID: %w", ErrMalformed)
	}
	payload := make([]byte, headerLen, 256)
	payload[0] = Version
	copy(payload[1:], inv.Token[:])
	binary.BigEndian.PutUint64(payload[1+TokenSize:], uint64(max(inv.Expires.Unix(), 0)))
	payload = binary.AppendUvarint(payload, uint64(len(id)))
	payload = append(payload, id...)
	addrs := make([]ma.Multiaddr, 0, len(inv.Addrs))
	for _, a := range inv.Addrs {
		if t, ok := transportOf(a, inv.Peer); ok {
			addrs = append(addrs, t)
		}
	}
	payload, count := appendAddrs(payload, addrs, maxPayload-checksumLen)
	if count == 0 {
		return "", fmt.Errorf("invite encode: no address of the invite host: %w", ErrMalformed)
	}
	return wrap(Prefix, payload), nil
}

// Decode parses a join code, ignoring surrounding whitespace. It bounds the
// input before decoding it, and reports why a code is invalid. It does not
// check the expiry: see Expired.
func Decode(code string) (Invite, error) {
	payload, err := unwrap(code, Prefix, 1)
	if err == nil {
		err = checkVersion(payload[0])
	}
	if err == nil && len(payload) < headerLen {
		err = ErrTruncated
	}
	if err != nil {
		return Invite{}, fmt.Errorf("invite decode: %w", err)
	}
	inv, err := parsePayload(payload)
	if err != nil {
		return Invite{}, fmt.Errorf("invite decode: %w", err)
	}
	return inv, nil
}

func checkVersion(v byte) error {
	switch v {
	case Version:
		return nil
	case oldVersion:
		return ErrOldVersion
	default:
		return fmt.Errorf("version %d: %w", v, ErrVersion)
	}
}

// wrap returns prefix and the base64url form of payload and its checksum.
func wrap(prefix string, payload []byte) string {
	sum := checksum(payload)
	return prefix + enc.EncodeToString(append(payload, sum[:]...))
}

// unwrap undoes wrap: it checks the prefix, alphabet, length and checksum,
// and returns the payload, at least minLen (and one) bytes long. The caller
// checks the version byte.
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
	if len(raw) < max(minLen, 1)+checksumLen {
		return nil, ErrTruncated
	}
	payload := raw[:len(raw)-checksumLen]
	if sum := checksum(payload); !bytes.Equal(sum[:], raw[len(payload):]) {
		return nil, ErrChecksum
	}
	return payload, nil
}

// parsePayload reads a current-version payload of at least headerLen bytes
// whose checksum has been verified.
func parsePayload(p []byte) (Invite, error) {
	var inv Invite
	copy(inv.Token[:], p[1:])
	secs := binary.BigEndian.Uint64(p[1+TokenSize:])
	if secs > math.MaxInt64 {
		return Invite{}, fmt.Errorf("expiry %d: %w", secs, ErrMalformed)
	}
	inv.Expires = time.Unix(int64(secs), 0).UTC()
	rest := p[headerLen:]
	n, used := binary.Uvarint(rest)
	if used <= 0 || n > uint64(len(rest)-used) {
		return Invite{}, fmt.Errorf("peer ID: %w", ErrTruncated)
	}
	if n > maxPeerIDLen {
		return Invite{}, fmt.Errorf("peer ID of %d bytes, at most %d: %w", n, maxPeerIDLen, ErrMalformed)
	}
	rest = rest[used:]
	id, err := peer.IDFromBytes(rest[:n])
	if err != nil {
		return Invite{}, fmt.Errorf("peer ID: %w (%v)", ErrMalformed, err)
	}
	inv.Peer = id
	inv.Addrs, rest, err = readAddrs(rest[n:], checkTransport)
	if err != nil {
		return Invite{}, err
	}
	if len(inv.Addrs) == 0 {
		return Invite{}, fmt.Errorf("no address: %w", ErrMalformed)
	}
	if len(rest) != 0 {
		return Invite{}, fmt.Errorf("%d unexpected trailing bytes: %w", len(rest), ErrMalformed)
	}
	return inv, nil
}

// appendAddrs appends a count byte, then each address as a uvarint length
// and its bytes: at most MaxAddrs of them, and none that would take p past
// limit bytes. It returns the new p and the count.
func appendAddrs(p []byte, addrs []ma.Multiaddr, limit int) ([]byte, int) {
	countAt := len(p)
	p = append(p, 0)
	count := 0
	for _, a := range addrs {
		b := a.Bytes()
		next := binary.AppendUvarint(p, uint64(len(b)))
		next = append(next, b...)
		if count == MaxAddrs || len(next) > limit {
			break
		}
		p = next
		count++
	}
	p[countAt] = byte(count)
	return p, count
}

// readAddrs reads what appendAddrs wrote, checking each address with check,
// and returns the addresses and the bytes that follow them.
func readAddrs(p []byte, check func(ma.Multiaddr) error) ([]ma.Multiaddr, []byte, error) {
	if len(p) == 0 {
		return nil, nil, fmt.Errorf("address count: %w", ErrTruncated)
	}
	count := int(p[0])
	if count > MaxAddrs {
		return nil, nil, fmt.Errorf("%d addresses, at most %d: %w", count, MaxAddrs, ErrTooLong)
	}
	rest := p[1:]
	addrs := make([]ma.Multiaddr, 0, count)
	for i := range count {
		n, used := binary.Uvarint(rest)
		if used <= 0 || n > uint64(len(rest)-used) {
			return nil, nil, fmt.Errorf("address %d: %w", i+1, ErrTruncated)
		}
		rest = rest[used:]
		a, err := ma.NewMultiaddrBytes(rest[:n])
		switch {
		case err != nil:
		case len(a) == 0:
			err = errors.New("empty address")
		default:
			err = check(a)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("address %d: %w (%v)", i+1, ErrMalformed, err)
		}
		addrs = append(addrs, a)
		rest = rest[n:]
	}
	return addrs, rest, nil
}

// transportOf returns a without a trailing /p2p/ that names id, and false
// for an address of another peer or through a relay.
func transportOf(a ma.Multiaddr, id peer.ID) (ma.Multiaddr, bool) {
	if len(a) == 0 {
		return nil, false
	}
	t, p := peer.SplitAddr(a)
	if p != "" && p != id {
		return nil, false
	}
	if len(t) == 0 || checkTransport(t) != nil {
		return nil, false
	}
	return t, true
}

// checkTransport accepts an address that names no peer.
func checkTransport(a ma.Multiaddr) error {
	if _, err := a.ValueForProtocol(ma.P_P2P); err == nil {
		return fmt.Errorf("%s names a peer; the code names the invite host once", a)
	}
	return nil
}

// checkPeerAddr accepts an address that ends in /p2p/<id>.
func checkPeerAddr(a ma.Multiaddr) error {
	if _, id := peer.SplitAddr(a); id == "" {
		return fmt.Errorf("%s has no /p2p/ peer ID", a)
	}
	return nil
}

// checksum returns the first checksumLen bytes of SHA-256(p).
func checksum(p []byte) [checksumLen]byte {
	sum := sha256.Sum256(p)
	return [checksumLen]byte(sum[:checksumLen])
}
