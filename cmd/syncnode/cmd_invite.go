package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

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
		Usage:     "print a single-use code that lets another device (or, with --relay, a relay) join this group",
		ArgsUsage: " ",
		Flags: clientFlags(
			&cli.BoolFlag{Name: "relay", Usage: "print a relay code: what a relay needs to join the group's network, never the secret"},
			&cli.DurationFlag{Name: "ttl", EnvVars: env("ttl"), Value: invite.DefaultTTL,
				Usage: fmt.Sprintf("how long the code stays valid (%v to %v); it works once either way", invite.MinTTL, invite.MaxTTL)},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode invite [--data DIR] [--ttl 15m] [--relay]")
			}
			if c.Bool("relay") {
				dir, err := openDataDir(c)
				if err != nil {
					return err
				}
				secret, err := dir.Secret()
				if err != nil {
					return err
				}
				return printRelayCode(c, secret.Network())
			}
			cl, err := connect(c)
			if err != nil {
				return fmt.Errorf("invite: start the node first: syncnode run%s; invites are handed out by the running node (%w)", dataArg(c), err)
			}
			inv, err := cl.Invite(c.Context, c.Duration("ttl"))
			if err != nil {
				return fmt.Errorf("invite: %w", err)
			}
			return out(c).result(inv, func(w io.Writer) {
				fmt.Fprintf(w, "%s\n\nOn the new device run:\n  syncnode join %s\n\n", inv.Code, inv.Code)
				fmt.Fprintf(w, "The code works once, until %s (in %v), while this node runs.\n",
					inv.Expires.Local().Format(time.DateTime), time.Until(inv.Expires).Round(time.Second))
			})
		},
	}
}

// dataArg is " --data DIR" if --data was given, for advice to print.
func dataArg(c *cli.Context) string {
	if p := c.String("data"); p != "" {
		return " --data " + p
	}
	return ""
}

func printRelayCode(c *cli.Context, network group.Network) error {
	code := invite.EncodeRelay(network)
	return out(c).result(struct {
		Code string `json:"code"`
	}{code}, func(w io.Writer) {
		fmt.Fprintf(w, "%s\n\nOn the relay host run:\n  syncnode relay --data DIR --join %s\n", code, code)
	})
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
		Usage:     "set up a fresh data dir in the group of an invite code, redeeming it with the inviting node",
		ArgsUsage: "CODE",
		Flags:     []cli.Flag{dataFlag(), jsonFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("syncnode join CODE [--data DIR]")
			}
			code := c.Args().Get(0)
			inv, err := invite.Decode(code)
			if err != nil {
				return fmt.Errorf("join: %w", err)
			}
			if inv.Expired(time.Now()) {
				return fmt.Errorf("join: the code expired at %s: %w", inv.Expires.Local().Format(time.DateTime), invite.ErrExpired)
			}
			path, err := dataPath(c)
			if err != nil {
				return err
			}
			// A redeemed code is spent: check the data dir before.
			if _, err := datadir.Open(path); err == nil {
				return fmt.Errorf("join: %s already holds a device; give a fresh --data directory: %w", path, datadir.ErrAlreadyInitialized)
			}
			if err := checkWritable(path); err != nil {
				return fmt.Errorf("join: %w (the code is still good)", err)
			}
			ctx, cancel := context.WithTimeout(c.Context, invite.RedeemTimeout)
			defer cancel()
			joined, err := invite.Redeem(ctx, code)
			if err != nil {
				return fmt.Errorf("join: %w", err)
			}
			dir, err := datadir.Init(path, &joined.Secret)
			if errors.Is(err, datadir.ErrAlreadyInitialized) {
				return fmt.Errorf("join: %s already holds a device; give a fresh --data directory: %w", path, err)
			}
			if err != nil {
				return fmt.Errorf("join: %w", err)
			}
			if err := node.SavePeers(dir, joined.Addrs); err != nil {
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
			}{id.String(), dir.Path, addrStrings(joined.Addrs)}
			return out(c).result(res, func(w io.Writer) {
				fmt.Fprintf(w, "joined the group as device %s\ndata %s\nstart it with: syncnode run --data %s\n", id, dir.Path, dir.Path)
			})
		},
	}
}

// checkWritable makes sure a data dir can be created and written at path,
// before a code is spent on it.
func checkWritable(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("data dir %s: %w", path, err)
	}
	f, err := os.CreateTemp(path, ".join-check-*")
	if err != nil {
		return fmt.Errorf("data dir %s is not writable: %w", path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
