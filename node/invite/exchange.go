package invite

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/syncnode/syncnode/node/group"
)

// The exchange runs on one stream of ProtocolID, to the invite host named by
// a join code:
//
//	joiner → inviter  the code's token, TokenSize bytes
//	inviter → joiner  1 status byte; after statusOK, the group secret
//	                  (group.SecretSize bytes) and the inviting node's own
//	                  addresses, each ending in /p2p/<node id> (a count
//	                  byte, then each as a uvarint length and its bytes);
//	                  then it closes its side
//	joiner            closes the stream once it has read the answer
//
// The inviter waits for that close before it may shut the invite host down,
// so the answer is never cut short.
//
// Noise on the connection encrypts both ways and proves the inviter holds
// the key of the peer ID in the code.
const ProtocolID protocol.ID = "/syncnode/invite/1"

// Answer status bytes.
const (
	statusOK byte = iota
	statusUnknown
	statusExpired
	statusUsed
	statusRateLimited
	statusBusy
)

// maxAnswer bounds the inviter's answer, and so what a joiner reads.
const maxAnswer = 8 << 10

// Lifetimes of an invite.
const (
	// DefaultTTL is how long an invite is valid unless told otherwise.
	DefaultTTL = 15 * time.Minute
	// MinTTL and MaxTTL bound the lifetime Server.Create accepts.
	MinTTL = time.Minute
	MaxTTL = 24 * time.Hour
)

// Errors of the exchange, each wrapped with detail. A joiner gets the first
// seven from Redeem; the inviter's Server returns the rest.
var (
	// ErrExpired means the code's lifetime is over.
	ErrExpired = errors.New("invite code has expired: ask for a new one")
	// ErrUsed means another device redeemed the code first.
	ErrUsed = errors.New("invite code was already used: ask for a new one")
	// ErrUnknown means the inviter holds no such token: it was revoked,
	// or the inviting node restarted since it made the code.
	ErrUnknown = errors.New("unknown or revoked invite: ask for a new one")
	// ErrRateLimited means too many attempts from this address failed.
	ErrRateLimited = errors.New("too many failed invite attempts from this address: wait a minute and retry")
	// ErrBusy means the inviter was answering as many joiners as it
	// takes at once; the code is still good.
	ErrBusy = errors.New("the inviting device is busy with other joiners: retry in a few seconds (the code is still good)")
	// ErrUnreachable means no connection to the invite host succeeded.
	ErrUnreachable = errors.New("could not reach the inviting device: its node must be running, on a network this device reaches, and its code neither used nor expired")
	// ErrAnswer means the inviter's answer is invalid.
	ErrAnswer = errors.New("the inviting device sent an invalid answer")

	// ErrTTL means a lifetime outside MinTTL..MaxTTL.
	ErrTTL = fmt.Errorf("invite lifetime must be between %v and %v", MinTTL, MaxTTL)
	// ErrTooManyPending means MaxPending invites are pending already.
	ErrTooManyPending = fmt.Errorf("%d invites are pending already: wait until some are used or expire", MaxPending)
	// ErrClosed means the Server is closed.
	ErrClosed = errors.New("invite server is closed")
)

// statusErr maps a refusal status to its error.
var statusErr = map[byte]error{
	statusUnknown:     ErrUnknown,
	statusExpired:     ErrExpired,
	statusUsed:        ErrUsed,
	statusRateLimited: ErrRateLimited,
	statusBusy:        ErrBusy,
}

// Joined is what a redeemed invite gives a new device.
type Joined struct {
	// Secret is the group secret.
	Secret group.Secret
	// Addrs are the inviting node's own addresses, each ending in
	// /p2p/<id>: the new device keeps them as static peers.
	Addrs []ma.Multiaddr
}

// encodeGrant returns the answer that hands out the group secret and the
// inviting node's addresses: those with a /p2p/ peer ID, as many as fit in
// maxAnswer.
func encodeGrant(secret group.Secret, addrs []ma.Multiaddr) []byte {
	p := make([]byte, 0, 256)
	p = append(p, statusOK)
	p = append(p, secret[:]...)
	kept := make([]ma.Multiaddr, 0, len(addrs))
	for _, a := range addrs {
		if len(a) > 0 && checkPeerAddr(a) == nil {
			kept = append(kept, a)
		}
	}
	p, _ = appendAddrs(p, kept, maxAnswer)
	return p
}

// decodeAnswer parses the inviter's answer: what it granted, or the
// refusal's error.
func decodeAnswer(b []byte) (Joined, error) {
	if len(b) == 0 {
		return Joined{}, fmt.Errorf("empty answer: %w", ErrAnswer)
	}
	if len(b) > maxAnswer {
		return Joined{}, fmt.Errorf("answer over %d bytes: %w", maxAnswer, ErrAnswer)
	}
	if b[0] != statusOK {
		err, ok := statusErr[b[0]]
		if !ok {
			return Joined{}, fmt.Errorf("status %d: %w", b[0], ErrAnswer)
		}
		if len(b) != 1 {
			return Joined{}, fmt.Errorf("%d bytes after a refusal: %w", len(b)-1, ErrAnswer)
		}
		return Joined{}, err
	}
	if len(b) < 1+group.SecretSize {
		return Joined{}, fmt.Errorf("%d bytes: %w", len(b), ErrAnswer)
	}
	var j Joined
	copy(j.Secret[:], b[1:])
	addrs, rest, err := readAddrs(b[1+group.SecretSize:], checkPeerAddr)
	if err != nil {
		return Joined{}, fmt.Errorf("%w: %w", ErrAnswer, err)
	}
	if len(rest) != 0 {
		return Joined{}, fmt.Errorf("%d unexpected trailing bytes: %w", len(rest), ErrAnswer)
	}
	j.Addrs = addrs
	return j, nil
}

// sourceOf is what failed attempts are counted against: the remote IP, or
// its /64 for IPv6, where one host commonly holds a whole prefix.
func sourceOf(remote ma.Multiaddr) string {
	ip, err := manet.ToIP(remote)
	if err != nil {
		return remote.String()
	}
	if ip.To4() == nil {
		ip = ip.Mask(net.CIDRMask(64, 128))
	}
	return ip.String()
}
