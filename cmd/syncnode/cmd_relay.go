package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/relay"
)

const relayUsage = "syncnode relay [--data DIR] [--join RELAYCODE] [--listen MADDR]... [--http HOST:PORT] [--public-addr MADDR]..."

func relayCommand() *cli.Command {
	return &cli.Command{
		Name:      "relay",
		Usage:     "run the always-on relay (on a VPS): devices that share no LAN sync through it",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			dataFlag(), jsonFlag(),
			&cli.StringFlag{Name: "join", EnvVars: env("join"), Usage: "relay code from `syncnode invite --relay` (first run only)"},
			&cli.StringSliceFlag{Name: "listen", EnvVars: env("listen"), Usage: "libp2p listen multiaddr, repeatable (default /ip4/0.0.0.0/tcp/<remembered port>)"},
			&cli.StringFlag{Name: "http", EnvVars: env("http"), Usage: "serve HTTP sync for thin clients on HOST:PORT (off unless given)"},
			&cli.StringSliceFlag{Name: "public-addr", EnvVars: env("public-addr"), Usage: "multiaddr to announce, e.g. /dns4/relay.example.com/tcp/4001, repeatable"},
			&cli.StringFlag{Name: "api", EnvVars: env("api"), Usage: "local admin API host:port (default " + node.DefaultAPIAddr + ", or a free port)"},
			&cli.DurationFlag{Name: "gc-interval", EnvVars: env("gc-interval"), Value: relay.DefaultGCInterval, Usage: "how often tombstones every device has seen are collected"},
			&cli.DurationFlag{Name: "horizon", EnvVars: env("horizon"), Value: relay.DefaultHorizon, Usage: "a device away longer stops holding collection back and must resync"},
			&cli.StringFlag{Name: "log-level", EnvVars: env("log-level"), Value: "info", Usage: "debug, info, warn or error"},
		},
		Subcommands: []*cli.Command{relayAddrCommand(), relayTokenCommand()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("%s\n       syncnode relay addr | token create --name NAME | token list | token revoke NAME", relayUsage)
			}
			path, err := dataPath(c)
			if err != nil {
				return err
			}
			logger, err := newLogger(c)
			if err != nil {
				return err
			}
			r, err := relay.Start(relay.Options{
				DataDir:     path,
				Join:        c.String("join"),
				Listen:      c.StringSlice("listen"),
				PublicAddrs: c.StringSlice("public-addr"),
				HTTP:        c.String("http"),
				API:         c.String("api"),
				GCInterval:  c.Duration("gc-interval"),
				Horizon:     c.Duration("horizon"),
				Version:     buildVersion(),
				Logger:      logger,
			})
			if err != nil {
				return err
			}
			info := r.Info()
			api := r.Node().APIAddr()
			p := out(c)
			if p.json {
				err = p.encode(struct {
					Event string `json:"event"`
					relay.Info
					Data string `json:"data"`
					API  string `json:"api"`
				}{"running", info, path, api})
			} else {
				fmt.Fprintf(p.w, "syncnode relay %s running\nrelay   %s\ndata    %s\nadmin   http://%s\n", buildVersion(), info.ID, path, api)
				if info.HTTP != "" {
					fmt.Fprintf(p.w, "http    http://%s/v1/sync\n", info.HTTP)
				}
				for _, a := range info.Addrs {
					fmt.Fprintf(p.w, "addr    %s\n", a)
				}
			}
			if err != nil {
				r.Close()
				return err
			}
			return serveUntilSignal(c.Context, p, logger, r)
		},
	}
}

func relayAddrCommand() *cli.Command {
	return &cli.Command{
		Name:      "addr",
		Usage:     "print the relay's multiaddrs, with /p2p/ID, for devices' --relay",
		ArgsUsage: " ",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode relay addr [--data DIR]")
			}
			addrs, err := relayAddrs(c)
			if err != nil {
				return err
			}
			return out(c).result(struct {
				Addrs []string `json:"addrs"`
			}{addrs}, func(w io.Writer) {
				for _, a := range addrs {
					fmt.Fprintln(w, a)
				}
			})
		},
	}
}

// relayAddrs asks the running relay, or else reads what it wrote at its
// last start.
func relayAddrs(c *cli.Context) ([]string, error) {
	if cl, err := connect(c); err == nil {
		info, err := relay.Admin{C: cl}.Info(c.Context)
		if err != nil {
			return nil, err
		}
		return info.Addrs, nil
	}
	dir, err := openDataDir(c)
	if err != nil {
		return nil, err
	}
	b, err := dir.ReadFile(relay.AddrsFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no relay addresses yet: start the relay once with `%s`", dir.Path, relayUsage)
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// tokenAdmin is what `relay token` needs: the running relay's admin API, or
// the registry of a stopped one.
type tokenAdmin interface {
	CreateToken(ctx context.Context, name string, expires time.Time) (relay.NewToken, error)
	Devices(ctx context.Context) ([]relay.Device, error)
	Revoke(ctx context.Context, name string) (relay.Device, error)
}

func openTokenAdmin(c *cli.Context) (tokenAdmin, error) {
	if cl, err := connect(c); err == nil {
		return relay.Admin{C: cl}, nil
	}
	path, err := dataPath(c)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(path, datadir.APIAddrFile)); err == nil {
		return nil, fmt.Errorf("a relay seems to run on %s but does not answer; retry, or remove %s if it was killed", path, datadir.APIAddrFile)
	}
	return relay.OpenOffline(path)
}

func relayTokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "create, list and revoke device tokens (works while the relay runs)",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a token for a device or thin client; it is shown only once",
				ArgsUsage: " ",
				Flags: clientFlags(
					&cli.StringFlag{Name: "name", EnvVars: env("name"), Required: true, Usage: "device name: 1-64 of A-Z a-z 0-9 . _ -"},
					&cli.DurationFlag{Name: "expires", EnvVars: env("expires"), Usage: "the token and the device's access end after this long, e.g. 720h (default: never)"},
				),
				Action: func(c *cli.Context) error {
					if c.NArg() != 0 {
						return usagef("syncnode relay token create --name NAME")
					}
					adm, err := openTokenAdmin(c)
					if err != nil {
						return err
					}
					var expires time.Time
					switch d := c.Duration("expires"); {
					case d < 0:
						return usagef("--expires must be positive")
					case d > 0:
						expires = time.Now().Add(d)
					}
					tok, err := adm.CreateToken(c.Context, c.String("name"), expires)
					if err != nil {
						return err
					}
					return out(c).result(tok, func(w io.Writer) {
						fmt.Fprintf(w, "%s\n\nShown once; the relay keeps only a hash. On the device run:\n  syncnode run --relay RELAY_MULTIADDR --relay-token %s\n", tok.Token, tok.Token)
					})
				},
			},
			{
				Name:      "list",
				Usage:     "list device tokens",
				ArgsUsage: " ",
				Flags:     clientFlags(),
				Action: func(c *cli.Context) error {
					adm, err := openTokenAdmin(c)
					if err != nil {
						return err
					}
					devs, err := adm.Devices(c.Context)
					if err != nil {
						return err
					}
					return out(c).result(struct {
						Devices []relay.Device `json:"devices"`
					}{devs}, func(w io.Writer) { printDevices(w, devs) })
				},
			},
			{
				Name:      "revoke",
				Usage:     "revoke a device's token: it is cut off at once",
				ArgsUsage: "NAME",
				Flags:     clientFlags(),
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("syncnode relay token revoke NAME")
					}
					adm, err := openTokenAdmin(c)
					if err != nil {
						return err
					}
					d, err := adm.Revoke(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					return out(c).result(d, func(w io.Writer) { fmt.Fprintf(w, "revoked %s\n", d.Name) })
				},
			},
		},
	}
}

func printDevices(w io.Writer, devs []relay.Device) {
	if len(devs) == 0 {
		fmt.Fprintln(w, "no device tokens; create one with `syncnode relay token create --name NAME`")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPEER\tLAST SEEN\tEXPIRES")
	for _, d := range devs {
		state := "active"
		switch {
		case d.Revoked:
			state = "revoked"
		case d.Expires != nil && !d.Expires.After(time.Now()):
			state = "expired"
		case d.Resync:
			state = "must resync"
		case d.Peer == "" && d.LastSeen == nil:
			state = "unused"
		}
		seen := "never"
		if d.LastSeen != nil {
			seen = d.LastSeen.Local().Format(time.DateTime)
		}
		expires := "never"
		if d.Expires != nil {
			expires = d.Expires.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, state, orDash(d.Peer), seen, expires)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
