package group

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/pnet"
)

// NetworkSize is the length of a Network's binary form: the pnet key, the
// topic ID and the mDNS hint.
const NetworkSize = 32 + 8 + 8

// ErrBadNetwork is returned when text does not hold a well-formed Network.
var ErrBadNetwork = fmt.Errorf("group network must be %d hex characters", 2*NetworkSize)

// Network is what a member needs to reach the group's peers and follow its
// gossip, without being able to derive the value key: the relay is given
// only this. Every value in it is derived from the Secret one way.
type Network struct {
	psk   [32]byte
	topic [8]byte
	hint  [8]byte
}

// Network returns the secret's network half.
func (s Secret) Network() Network {
	var n Network
	copy(n.psk[:], s.derive(infoPSK, 32))
	copy(n.topic[:], s.derive(infoTopic, 8))
	copy(n.hint[:], s.derive(infoHint, 8))
	return n
}

// PSK is the libp2p private-network key.
func (n Network) PSK() pnet.PSK { return pnet.PSK(n.psk[:]) }

// Topic is the group's GossipSub topic.
func (n Network) Topic() string { return TopicPrefix + hex.EncodeToString(n.topic[:]) }

// Hint is the mDNS group hint: it tells group members apart on a LAN and
// reveals nothing else.
func (n Network) Hint() string { return hex.EncodeToString(n.hint[:]) }

// IsZero reports whether n is unset.
func (n Network) IsZero() bool { return n == Network{} }

// Bytes returns the binary form, NetworkSize bytes.
func (n Network) Bytes() []byte {
	return append(append(append(make([]byte, 0, NetworkSize), n.psk[:]...), n.topic[:]...), n.hint[:]...)
}

// NetworkFromBytes parses the binary form.
func NetworkFromBytes(b []byte) (Network, error) {
	if len(b) != NetworkSize {
		return Network{}, fmt.Errorf("group network: %d bytes: %w", len(b), ErrBadNetwork)
	}
	var n Network
	copy(n.psk[:], b[:32])
	copy(n.topic[:], b[32:40])
	copy(n.hint[:], b[40:])
	if n.IsZero() {
		return Network{}, errors.New("group network: all zero")
	}
	return n, nil
}

// MarshalText encodes the network as hex.
func (n Network) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(n.Bytes())), nil }

// UnmarshalText parses hex from MarshalText, ignoring surrounding space.
func (n *Network) UnmarshalText(text []byte) error {
	b, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("group network: %w", ErrBadNetwork)
	}
	out, err := NetworkFromBytes(b)
	if err != nil {
		return err
	}
	*n = out
	return nil
}
