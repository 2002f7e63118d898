package invite

import (
	"errors"
	"fmt"

	"github.com/syncnode/syncnode/node/group"
)

// A relay code is RelayPrefix followed by the unpadded base64url form of:
//
//	version  1 byte (RelayVersion)
//	network  group.NetworkSize bytes: pnet key, topic ID, mDNS hint
//	checksum first 4 bytes of SHA-256 over everything before it
//
// It gives a relay what it needs to join the group's network and follow its
// gossip, and never the group secret, from which the value key derives.
const RelayPrefix = "syncnode-relay1-"

// RelayVersion is the relay code format this package writes.
const RelayVersion byte = 1

// ErrRelayPrefix means the text does not start with RelayPrefix.
var ErrRelayPrefix = errors.New("not a syncnode relay code (it should start with " + RelayPrefix + "; make one with `syncnode invite --relay`)")

const relayPayloadLen = 1 + group.NetworkSize

// EncodeRelay returns the relay code for a group's network.
func EncodeRelay(n group.Network) string {
	payload := append([]byte{RelayVersion}, n.Bytes()...)
	return wrap(RelayPrefix, payload)
}

// DecodeRelay parses a relay code, ignoring surrounding whitespace.
func DecodeRelay(code string) (group.Network, error) {
	payload, err := unwrap(code, RelayPrefix, relayPayloadLen)
	if errors.Is(err, ErrPrefix) {
		err = ErrRelayPrefix
	}
	if err == nil && payload[0] != RelayVersion {
		err = fmt.Errorf("version %d: %w", payload[0], ErrVersion)
	}
	if err != nil {
		return group.Network{}, fmt.Errorf("relay code decode: %w", err)
	}
	if len(payload) != relayPayloadLen {
		return group.Network{}, fmt.Errorf("relay code decode: %d bytes: %w", len(payload), ErrMalformed)
	}
	n, err := group.NetworkFromBytes(payload[1:])
	if err != nil {
		return group.Network{}, fmt.Errorf("relay code decode: %w (%v)", ErrMalformed, err)
	}
	return n, nil
}
