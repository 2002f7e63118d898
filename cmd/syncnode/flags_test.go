package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestReorderArgs(t *testing.T) {
	app := newApp(strings.NewReader(""), io.Discard, io.Discard)
	for _, tc := range []struct{ in, want string }{
		{"sn ls tasks --prefix t", "sn ls --prefix t tasks"},
		{"sn --data D status", "sn status --data D"},
		{"sn --json --data=D get ns k", "sn get --json --data=D ns k"},
		{"sn put ns k -5 --data D", "sn put --data D -- ns k -5"},
		{"sn put ns k - --data D", "sn put --data D -- ns k -"},
		{"sn get ns k", "sn get ns k"},
		{"sn ls tasks --limit", "sn ls --limit"},
		{"sn --version", "sn --version"},
		{"sn nosuchcommand --x", "sn nosuchcommand --x"},
		{"sn put -- ns --k 1", "sn put -- ns --k 1"},
	} {
		got := strings.Join(reorderArgs(app, strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// noEnv lists the flags that read no environment variable, and why.
var noEnv = map[string]string{
	// SYNCNODE_RELAY is run's relay address; a bool reading it would fail.
	"invite --relay": "SYNCNODE_RELAY belongs to run --relay",
}

func TestEveryFlagHasItsEnvVar(t *testing.T) {
	app := newApp(strings.NewReader(""), io.Discard, io.Discard)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			walk(path+c.Name+" ", c.Subcommands)
			for _, f := range c.Flags {
				name := f.Names()[0]
				want := env(name)
				if _, exempt := noEnv[path+c.Name+" --"+name]; exempt {
					want = nil
				}
				ev, ok := f.(interface{ GetEnvVars() []string })
				if !ok || !slices.Equal(ev.GetEnvVars(), want) {
					t.Errorf("%s%s --%s does not read %v", path, c.Name, name, want)
				}
			}
		}
	}
	walk("", app.Commands)
}
