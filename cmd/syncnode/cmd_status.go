package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node/api"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show the node, its replica and whether each peer is in sync",
		ArgsUsage: " ",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode status")
			}
			cl, err := connect(c)
			if err != nil {
				return err
			}
			st, err := cl.Status(c.Context)
			if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			return out(c).result(st, func(w io.Writer) {
				fmt.Fprintf(w, "device     %s\nversion    %s\nup         %s\napi        %s\n", st.ID, st.Version, time.Since(st.Started).Round(time.Second), st.API)
				fmt.Fprintf(w, "records    %d (+%d tombstones)\nseq        %d\ndigest     %s\nclock      %s\n", st.Records, st.Tombstones, st.ServerSeq, st.Digest, st.Clock)
				fmt.Fprintf(w, "rejected   %d%s\n", st.RejectedTotal, reasons(st.Rejected))
				if st.Refilling > 0 {
					fmt.Fprintf(w, "refilling  %d keys a revoked device's writes left empty, from the next peer that has seen all we have\n", st.Refilling)
				}
				for _, a := range st.Addrs {
					fmt.Fprintf(w, "listen     %s\n", a)
				}
				if st.Relay != nil {
					printRelayLink(w, *st.Relay)
				}
				fmt.Fprintf(w, "peers      %d\n", len(st.Peers))
				printPeers(w, st.Peers)
			})
		},
	}
}

func printRelayLink(w io.Writer, r api.RelayLink) {
	state := "disconnected"
	if r.Connected {
		state = "connected"
	}
	fmt.Fprintf(w, "relay      %s  %s", r.ID, state)
	if r.Device != "" {
		fmt.Fprintf(w, ", paired as %s, server seq %d", r.Device, r.ServerSeq)
	}
	if r.LastOK != nil {
		fmt.Fprintf(w, ", last exchange %s ago", time.Since(*r.LastOK).Round(time.Second))
	}
	fmt.Fprintln(w)
	if r.Error != "" {
		fmt.Fprintf(w, "           error: %s\n", r.Error)
	}
}

// healthCommand is for health checks (the Dockerfile's HEALTHCHECK): it
// only asks the node or relay on the data dir whether it answers.
func healthCommand() *cli.Command {
	return &cli.Command{
		Name:      "health",
		Usage:     "exit 0 if the node or relay on the data dir answers, 1 if not (for health checks)",
		ArgsUsage: " ",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode health")
			}
			if _, err := connect(c); err != nil {
				return err
			}
			return out(c).result(api.Health{OK: true}, func(w io.Writer) { fmt.Fprintln(w, "ok") })
		},
	}
}

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:      "peers",
		Usage:     "list known peers: addresses, how found, last sync, in sync",
		ArgsUsage: " ",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode peers")
			}
			cl, err := connect(c)
			if err != nil {
				return err
			}
			peers, err := cl.Peers(c.Context)
			if err != nil {
				return fmt.Errorf("peers: %w", err)
			}
			return out(c).result(api.PeersResponse{Peers: peers}, func(w io.Writer) {
				if len(peers) == 0 {
					fmt.Fprintln(w, "no peers yet")
					return
				}
				printPeers(w, peers)
			})
		},
	}
}

func printPeers(w io.Writer, peers []api.Peer) {
	for _, p := range peers {
		state := "disconnected"
		if p.Connected {
			state = "connected"
		}
		sync := "in sync: no"
		switch {
		case p.Revoked:
			sync = "revoked"
		case p.InSync:
			sync = "in sync: yes"
		}
		last := "never"
		if p.LastSync != nil {
			last = time.Since(*p.LastSync).Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(w, "  %s  %s via %s, %s, last sync %s", p.ID, state, p.Source, sync, last)
		if p.LastSyncError != "" {
			fmt.Fprintf(w, " (error: %s)", p.LastSyncError)
		}
		if p.Rejected > 0 {
			fmt.Fprintf(w, ", %d rejected", p.Rejected)
		}
		fmt.Fprintln(w)
		for _, a := range p.Addrs {
			fmt.Fprintf(w, "      %s\n", a)
		}
	}
}

func reasons(m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for r, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}
