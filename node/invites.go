package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/invite"
)

// Inviter hands out single-use join codes. *invite.Server implements it.
// Its methods must be safe for concurrent use.
type Inviter interface {
	// Create issues an invite valid for ttl and returns its code and
	// expiry. It fails with errors wrapping invite.ErrTTL,
	// invite.ErrTooManyPending or invite.ErrClosed.
	Create(ttl time.Duration) (code string, expires time.Time, err error)
	// Close withdraws every pending invite and stops serving them.
	Close() error
}

var _ Inviter = (*invite.Server)(nil)

// newInvites returns the invite server of a device's data dir, which hands
// the group secret to whoever redeems one of its codes first; nil for a
// relay's data dir, which holds no secret. Its invite host listens on the
// IPs h listens on.
func newInvites(dir *datadir.Dir, h host.Host, log *slog.Logger) (Inviter, error) {
	secret, err := dir.Secret()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := invite.NewServer(invite.ServerConfig{
		Secret: secret,
		Listen: inviteListen(h.Network().ListenAddresses()),
		Addrs: func() []ma.Multiaddr {
			full, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
			return full
		},
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("node invites: %w", err)
	}
	return s, nil
}

// inviteListen returns the invite host's listen addresses: the node's own
// IPs, each at a TCP port of the kernel's choosing.
func inviteListen(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	seen := map[string]bool{}
	for _, a := range addrs {
		if len(a) == 0 {
			continue
		}
		switch a[0].Protocol().Code {
		case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		default:
			continue
		}
		l := ma.Multiaddr{a[0]}.Encapsulate(ma.StringCast("/tcp/0"))
		if !seen[l.String()] {
			seen[l.String()] = true
			out = append(out, l)
		}
	}
	return out
}

// Invite issues a single-use join code valid for ttl, served by an invite
// host beside the node's own until it is used or expires. A relay, which
// holds no group secret, gets api.ErrCannotInvite.
func (n *Node) Invite(_ context.Context, ttl time.Duration) (api.Invite, error) {
	if n.cfg.Invites == nil {
		return api.Invite{}, api.ErrCannotInvite
	}
	code, expires, err := n.cfg.Invites.Create(ttl)
	if err != nil {
		return api.Invite{}, fmt.Errorf("node invite: %w", err)
	}
	return api.Invite{Code: code, Expires: expires.UTC()}, nil
}
