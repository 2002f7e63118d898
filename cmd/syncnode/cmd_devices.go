package main

import (
	"cmp"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node/api"
)

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:        "devices",
		Usage:       "list the group's devices; `devices revoke NAME|ID` revokes one for the whole group",
		ArgsUsage:   " ",
		Flags:       clientFlags(),
		Subcommands: []*cli.Command{revokeCommand()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode devices | devices revoke NAME|ID")
			}
			cl, err := connect(c)
			if err != nil {
				return err
			}
			devs, err := cl.Devices(c.Context)
			if err != nil {
				return fmt.Errorf("devices: %w", err)
			}
			return out(c).result(api.DevicesResponse{Devices: devs}, func(w io.Writer) {
				if len(devs) == 0 {
					fmt.Fprintln(w, "no devices known yet")
					return
				}
				names := map[string]string{}
				for _, d := range devs {
					names[d.ID] = d.Name
				}
				for _, d := range devs {
					printDevice(w, d, names)
				}
			})
		},
	}
}

func revokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "revoke a device for the whole group: every device and the relay then refuse its connections and its new records",
		ArgsUsage: "NAME|ID",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("syncnode devices revoke NAME|ID")
			}
			cl, err := connect(c)
			if err != nil {
				return err
			}
			d, err := cl.Revoke(c.Context, c.Args().First())
			if err != nil {
				return fmt.Errorf("devices revoke: %w", err)
			}
			return out(c).result(api.RevokeResponse{Device: d}, func(w io.Writer) {
				fmt.Fprintf(w, "revoked %s (%s); the revocation spreads to the group like any record\n", d.Name, d.ID)
			})
		},
	}
}

// printDevice prints one device; names maps IDs to names, to say who
// revoked it.
func printDevice(w io.Writer, d api.Device, names map[string]string) {
	name := d.Name
	if name == "" {
		name = "(unnamed)"
	}
	var tags string
	if d.Self {
		tags += "  this device"
	}
	if d.Relay {
		tags += "  relay"
	}
	if d.Revoked {
		tags += "  REVOKED"
		if d.RevokedAt != nil {
			tags += " " + d.RevokedAt.Local().Format(time.DateTime)
		}
		if by := cmp.Or(names[d.RevokedBy], d.RevokedBy); by != "" {
			tags += " by " + by
		}
	}
	fmt.Fprintf(w, "%-20s %s%s\n", name, d.ID, tags)
}
