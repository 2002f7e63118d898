package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// printer writes a command's result: JSON with --json, text otherwise.
type printer struct {
	w    io.Writer
	json bool
}

func out(c *cli.Context) printer {
	return printer{w: c.App.Writer, json: c.Bool("json")}
}

// result prints v as one line of JSON under --json, or calls text.
func (p printer) result(v any, text func(w io.Writer)) error {
	if p.json {
		return p.encode(v)
	}
	text(p.w)
	return nil
}

func (p printer) encode(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(p.w, "%s\n", b)
	return err
}
