package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/client"
)

func putCommand() *cli.Command {
	return &cli.Command{
		Name:      "put",
		Usage:     "write a JSON value (- reads it from stdin)",
		ArgsUsage: "NS KEY JSON|-",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 3 {
				return usagef("syncnode put NS KEY JSON|-")
			}
			ns, key, value := c.Args().Get(0), c.Args().Get(1), []byte(c.Args().Get(2))
			if string(value) == "-" {
				var err error
				if value, err = readValue(c.App.Reader); err != nil {
					return err
				}
			}
			if !json.Valid(value) {
				return fmt.Errorf("put %s/%s: value is not valid JSON (quote strings: '\"text\"')", ns, key)
			}
			cl, err := connect(c)
			if err != nil {
				return err
			}
			v, err := cl.Put(c.Context, ns, key, value)
			if err != nil {
				return fmt.Errorf("put %s/%s: %w", ns, key, err)
			}
			return out(c).result(api.WriteResponse{Version: v}, func(w io.Writer) {
				fmt.Fprintf(w, "ok %s/%s hlc=%s seq=%d\n", ns, key, v.HLC, v.Seq)
			})
		},
	}
}

// readValue reads a value from stdin, refusing more than the size limit
// before sending anything.
func readValue(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, crdt.MaxValueSize+1))
	if err != nil {
		return nil, fmt.Errorf("read value from stdin: %w", err)
	}
	if len(b) > crdt.MaxValueSize {
		return nil, fmt.Errorf("value from stdin is larger than %d bytes", crdt.MaxValueSize)
	}
	return b, nil
}

func getCommand() *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "print a record's value (--json: the whole record)",
		ArgsUsage: "NS KEY",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("syncnode get NS KEY")
			}
			ns, key := c.Args().Get(0), c.Args().Get(1)
			cl, err := connect(c)
			if err != nil {
				return err
			}
			rec, err := cl.Get(c.Context, ns, key)
			if err != nil {
				return fmt.Errorf("get %s/%s: %w", ns, key, err)
			}
			return out(c).result(rec, func(w io.Writer) {
				fmt.Fprintf(w, "%s\n", rec.Value)
			})
		},
	}
}

func delCommand() *cli.Command {
	return &cli.Command{
		Name:      "del",
		Usage:     "delete a record (writes a tombstone that syncs like any write)",
		ArgsUsage: "NS KEY",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("syncnode del NS KEY")
			}
			ns, key := c.Args().Get(0), c.Args().Get(1)
			cl, err := connect(c)
			if err != nil {
				return err
			}
			v, err := cl.Delete(c.Context, ns, key)
			if err != nil {
				return fmt.Errorf("del %s/%s: %w", ns, key, err)
			}
			return out(c).result(api.WriteResponse{Version: v}, func(w io.Writer) {
				fmt.Fprintf(w, "deleted %s/%s hlc=%s seq=%d\n", ns, key, v.HLC, v.Seq)
			})
		},
	}
}

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list a namespace's records in key order",
		ArgsUsage: "NS",
		Flags: clientFlags(
			&cli.StringFlag{Name: "prefix", EnvVars: env("prefix"), Usage: "only keys starting with P"},
			&cli.StringFlag{Name: "after", EnvVars: env("after"), Usage: "only keys after this one (paging)"},
			&cli.IntFlag{Name: "limit", EnvVars: env("limit"), Usage: "at most N records (default: all)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("syncnode ls NS [--prefix P]")
			}
			if c.Int("limit") < 0 {
				return usagef("--limit must not be negative")
			}
			cl, err := connect(c)
			if err != nil {
				return err
			}
			res, err := listAll(c, cl, c.Args().Get(0))
			if err != nil {
				return err
			}
			return out(c).result(res, func(w io.Writer) {
				for _, r := range res.Records {
					fmt.Fprintf(w, "%s\t%s\n", r.Key, r.Value)
				}
			})
		},
	}
}

// listAll pages through the namespace until --limit records or the end.
func listAll(c *cli.Context, cl *client.Client, ns string) (api.ListResponse, error) {
	want := c.Int("limit")
	res := api.ListResponse{Records: []api.Record{}}
	opts := client.ListOptions{Prefix: c.String("prefix"), After: c.String("after")}
	for {
		opts.Limit = api.MaxListLimit
		if want > 0 {
			opts.Limit = min(want-len(res.Records), api.MaxListLimit)
		}
		page, err := cl.List(c.Context, ns, opts)
		if err != nil {
			return res, fmt.Errorf("ls %s: %w", ns, err)
		}
		res.Records = append(res.Records, page.Records...)
		res.Next = page.Next
		if page.Next == "" || (want > 0 && len(res.Records) >= want) {
			return res, nil
		}
		opts.After = page.Next
	}
}
