package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run this device's node (a fresh data dir initializes itself)",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			dataFlag(), jsonFlag(),
			&cli.StringSliceFlag{Name: "listen", EnvVars: env("listen"), Usage: "libp2p listen multiaddr, repeatable (default /ip4/0.0.0.0/tcp/0; TCP only, see README)"},
			&cli.StringFlag{Name: "api", EnvVars: env("api"), Usage: "local API host:port (default " + node.DefaultAPIAddr + ", or a free port if that is taken)"},
			&cli.StringSliceFlag{Name: "peer", EnvVars: env("peer"), Usage: "static peer multiaddr with /p2p/ID, repeatable"},
			&cli.StringFlag{Name: "relay", EnvVars: env("relay"), Usage: "relay multiaddr with /p2p/ID (see `syncnode relay addr`); remembered after the first pairing"},
			&cli.StringFlag{Name: "relay-token", EnvVars: env("relay-token"), Usage: "token from `syncnode relay token create`; remembered after the first pairing"},
			&cli.BoolFlag{Name: "no-mdns", EnvVars: env("no-mdns"), Usage: "do not discover peers on the LAN"},
			&cli.StringSliceFlag{Name: "mdns-iface", EnvVars: env("mdns-iface"), Usage: "interface for mDNS, repeatable (default: all multicast interfaces)"},
			&cli.StringFlag{Name: "name", EnvVars: env("name"), Usage: "this device's name in `syncnode devices` (default: the host name)"},
			&cli.DurationFlag{Name: "sync-interval", EnvVars: env("sync-interval"), Value: node.DefaultSyncInterval, Usage: "mean time between background anti-entropy rounds; 0 turns background anti-entropy (the timer and the check after each burst) off"},
			&cli.StringFlag{Name: "log-level", EnvVars: env("log-level"), Value: "info", Usage: "debug, info, warn or error"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode run [--data DIR] [--listen MADDR]... [--api HOST:PORT] [--relay MADDR [--relay-token TOKEN]] [--no-mdns] [--mdns-iface IFACE] [--name NAME]")
			}
			path, err := dataPath(c)
			if err != nil {
				return err
			}
			logger, err := newLogger(c)
			if err != nil {
				return err
			}
			interval := c.Duration("sync-interval")
			if interval == 0 {
				interval = -1 // node.Config: negative is off, zero the default
			}
			n, created, err := node.Start(node.Options{
				DataDir:        path,
				Listen:         c.StringSlice("listen"),
				API:            c.String("api"),
				Peers:          c.StringSlice("peer"),
				Relay:          c.String("relay"),
				RelayToken:     c.String("relay-token"),
				MDNS:           !c.Bool("no-mdns"),
				MDNSInterfaces: c.StringSlice("mdns-iface"),
				Name:           c.String("name"),
				SyncInterval:   interval,
				Version:        buildVersion(),
				Logger:         logger,
			})
			if err != nil {
				return err
			}
			st, err := n.Status(c.Context)
			if err != nil {
				n.Close()
				return err
			}
			mdns := "off"
			if !c.Bool("no-mdns") {
				mdns = "on (" + orAll(c.StringSlice("mdns-iface")) + ")"
			}
			p := out(c)
			if p.json {
				started := struct {
					Event   string   `json:"event"`
					ID      string   `json:"id"`
					Data    string   `json:"data"`
					API     string   `json:"api"`
					Addrs   []string `json:"addrs"`
					MDNS    string   `json:"mdns"`
					Created bool     `json:"created"`
				}{"running", st.ID, path, st.API, st.Addrs, mdns, created}
				if err := p.encode(started); err != nil {
					n.Close()
					return err
				}
			} else {
				if created {
					fmt.Fprintf(p.w, "initialized new data dir %s\n", path)
				}
				fmt.Fprintf(p.w, "syncnode %s running\ndevice  %s\ndata    %s\napi     http://%s\nmdns    %s\n", buildVersion(), st.ID, path, st.API, mdns)
				for _, a := range st.Addrs {
					fmt.Fprintf(p.w, "listen  %s\n", a)
				}
				if st.Relay != nil {
					fmt.Fprintf(p.w, "relay   %s\n", st.Relay.ID)
				}
			}
			logger.Info("node running", "id", st.ID, "api", st.API, "data", path, "created", created, "mdns", mdns)
			return serveUntilSignal(c.Context, p, logger, n)
		},
	}
}

func orAll(ifaces []string) string {
	if len(ifaces) == 0 {
		return "all interfaces"
	}
	return strings.Join(ifaces, ", ")
}

// newLogger logs to stderr, as JSON under --json.
func newLogger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level must be debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: level}
	var w io.Writer = c.App.ErrWriter
	if c.Bool("json") {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
