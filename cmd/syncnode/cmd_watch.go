package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/client"
)

// watchRetry is how long watch waits before reconnecting to a node that went
// away; it resumes from the last change it printed, so nothing is missed.
const watchRetry = time.Second

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "print changes as they happen (one JSON object per line with --json)",
		ArgsUsage: "[NS]",
		Flags: clientFlags(
			&cli.StringFlag{Name: "since", EnvVars: env("since"), Usage: "start after this cursor instead of now"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("syncnode watch [NS]")
			}
			ns, since := c.Args().Get(0), c.String("since")
			p := out(c)
			print := func(ch api.Change) error {
				since = ch.Cursor // resume after this change on reconnect
				if p.json {
					return p.encode(ch)
				}
				if ch.Deleted {
					_, err := fmt.Fprintf(p.w, "del %s/%s\n", ch.NS, ch.Key)
					return err
				}
				_, err := fmt.Fprintf(p.w, "put %s/%s %s\n", ch.NS, ch.Key, ch.Value)
				return err
			}
			warned := false
			for {
				err := watchOnce(c, ns, &since, print)
				if c.Context.Err() != nil {
					return nil
				}
				if errors.Is(err, client.ErrUnauthorized) || isUsage(err) {
					return err
				}
				if !warned {
					fmt.Fprintf(c.App.ErrWriter, "syncnode: watch: %v; reconnecting until the node is back\n", err)
					warned = true
				}
				select {
				case <-c.Context.Done():
					return nil
				case <-time.After(watchRetry):
				}
			}
		},
	}
}

// watchOnce streams changes until the connection ends. It reconnects through
// the data dir each time, since a restarted node may listen elsewhere.
func watchOnce(c *cli.Context, ns string, since *string, fn func(api.Change) error) error {
	cl, err := connect(c)
	if err != nil {
		return err
	}
	if *since == "" {
		// Pin "now" to a real cursor, so a reconnect resumes from here
		// rather than from whatever "now" is then.
		head, err := cl.Changes(c.Context, "now", ns, 1, 0)
		if err != nil {
			return err
		}
		*since = head.Cursor
	}
	err = cl.Watch(c.Context, ns, *since, fn)
	if err == nil {
		err = errors.New("node closed the stream")
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// isUsage reports whether err is the node refusing the request itself (a bad
// namespace, a bad cursor): retrying would not help.
func isUsage(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
}
