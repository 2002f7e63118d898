package main

import (
	"io"
	"slices"
	"strings"
	"testing"
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

func TestEveryFlagHasItsEnvVar(t *testing.T) {
	app := newApp(strings.NewReader(""), io.Discard, io.Discard)
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			name := f.Names()[0]
			ev, ok := f.(interface{ GetEnvVars() []string })
			if !ok || !slices.Equal(ev.GetEnvVars(), env(name)) {
				t.Errorf("%s --%s does not read %v", c.Name, name, env(name))
			}
		}
	}
}
