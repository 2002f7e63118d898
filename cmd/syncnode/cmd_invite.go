package main

import (
	"errors"
	"fmt"
	"io"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/invite"
)

func inviteCommand() *cli.Command {
	return &cli.Command{
		Name:      "invite",
		Usage:     "print a code that lets another device (or, with --relay, a relay) join this group",
		ArgsUsage: " ",
		Flags:     clientFlags(&cli.BoolFlag{Name: "relay", Usage: "print a relay code: what a relay needs to join the group's network, never the secret"}),
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode invite [--data DIR] [--relay]")
			}
			dir, err := openDataDir(c)
			if err != nil {
				return err
			}
			secret, err := dir.Secret()
			if err != nil {
				return err
			}
			if c.Bool("relay") {
				return printRelayCode(c, secret.Network())
			}
			addrs, err := runningAddrs(c)
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "syncnode: note: %v; the code carries no addresses, so the new device finds this one only by mDNS on the LAN\n", err)
			}
			code := invite.Encode(invite.Invite{Secret: secret, Addrs: addrs})
			res := struct {
				Code  string   `json:"code"`
				Addrs []string `json:"addrs"`
			}{code, addrStrings(addrs)}
			return out(c).result(res, func(w io.Writer) {
				fmt.Fprintf(w, "%s\n\nOn the new device run:\n  syncnode join %s\n", code, code)
			})
		},
	}
}

func printRelayCode(c *cli.Context, network group.Network) error {
	code := invite.EncodeRelay(network)
	return out(c).result(struct {
		Code string `json:"code"`
	}{code}, func(w io.Writer) {
		fmt.Fprintf(w, "%s\n\nOn the relay host run:\n  syncnode relay --data DIR --join %s\n", code, code)
	})
}

// runningAddrs asks the running node for its dialable addresses.
func runningAddrs(c *cli.Context) ([]ma.Multiaddr, error) {
	cl, err := connect(c)
	if err != nil {
		return nil, err
	}
	st, err := cl.Status(c.Context)
	if err != nil {
		return nil, fmt.Errorf("ask the running node for its addresses: %w", err)
	}
	addrs, err := node.ParseAddrs(st.Addrs)
	if err != nil {
		return nil, fmt.Errorf("node address: %w", err)
	}
	return addrs, nil
}

func addrStrings(addrs []ma.Multiaddr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func joinCommand() *cli.Command {
	return &cli.Command{
		Name:      "join",
		Usage:     "set up a fresh data dir in the group of an invite code",
		ArgsUsage: "CODE",
		Flags:     []cli.Flag{dataFlag(), jsonFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("syncnode join CODE [--data DIR]")
			}
			inv, err := invite.Decode(c.Args().Get(0))
			if err != nil {
				return fmt.Errorf("join: %w", err)
			}
			path, err := dataPath(c)
			if err != nil {
				return err
			}
			dir, err := datadir.Init(path, &inv.Secret)
			if errors.Is(err, datadir.ErrAlreadyInitialized) {
				return fmt.Errorf("join: %s already holds a device; give a fresh --data directory: %w", path, err)
			}
			if err != nil {
				return fmt.Errorf("join: %w", err)
			}
			if err := node.SavePeers(dir, inv.Addrs); err != nil {
				return fmt.Errorf("join: %w", err)
			}
			id, err := deviceID(dir)
			if err != nil {
				return err
			}
			res := struct {
				ID    string   `json:"id"`
				Data  string   `json:"data"`
				Peers []string `json:"peers"`
			}{id.String(), dir.Path, addrStrings(inv.Addrs)}
			return out(c).result(res, func(w io.Writer) {
				fmt.Fprintf(w, "joined the group as device %s\ndata %s\nstart it with: syncnode run --data %s\n", id, dir.Path, dir.Path)
			})
		},
	}
}
