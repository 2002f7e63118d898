package node

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/host"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/p2p"
)

// PortFile, in the data dir, remembers the TCP port the node listened on
// by default, so that addresses handed out in invite codes stay valid
// across restarts.
const PortFile = "listen-port"

// listenP2P starts the libp2p host. Explicit listen addresses are used as
// given. Otherwise the node listens on every IPv4 interface at the port it
// used last time (a free one the first time, or if that one is now taken)
// and remembers the port.
func listenP2P(dir *datadir.Dir, cfg p2p.Config, explicit []ma.Multiaddr) (host.Host, error) {
	if len(explicit) > 0 {
		cfg.ListenAddrs = explicit
		return p2p.New(cfg)
	}
	port, err := savedPort(dir)
	if err != nil {
		return nil, err
	}
	var h host.Host
	if port != 0 {
		cfg.ListenAddrs = []ma.Multiaddr{defaultListen(port)}
		h, err = p2p.New(cfg)
	}
	if h == nil {
		cfg.ListenAddrs = []ma.Multiaddr{defaultListen(0)}
		if h, err = p2p.New(cfg); err != nil {
			return nil, err
		}
	}
	if got := tcpPort(h); got != 0 && got != port {
		if err := dir.WriteFile(PortFile, []byte(strconv.Itoa(got)+"\n")); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

func defaultListen(port int) ma.Multiaddr {
	return ma.StringCast(fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", port))
}

func savedPort(dir *datadir.Dir) (int, error) {
	b, err := dir.ReadFile(PortFile)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || port < 1 || port > 65535 {
		// A damaged file costs only a new port.
		return 0, nil
	}
	return port, nil
}

// tcpPort returns the TCP port of the host's first listen address.
func tcpPort(h host.Host) int {
	for _, a := range h.Network().ListenAddresses() {
		if s, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			if p, err := strconv.Atoi(s); err == nil && p != 0 {
				return p
			}
		}
	}
	return 0
}
