package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node/datadir"
)

// env returns the environment variable that also sets flag name:
// SYNCNODE_<NAME>, with dashes as underscores.
func env(name string) []string {
	return []string{"SYNCNODE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

func dataFlag() cli.Flag {
	return &cli.StringFlag{Name: "data", EnvVars: env("data"), Usage: "data directory (default ~/.local/share/syncnode)"}
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print JSON instead of text"}
}

// apiFlag is the running node's API address for client commands; by default
// they read it from the data dir's api-addr.
func apiFlag() cli.Flag {
	return &cli.StringFlag{Name: "api", EnvVars: env("api"), Usage: "address of the running node's API (default: read from the data dir)"}
}

// dataPath returns --data, or the default data directory.
func dataPath(c *cli.Context) (string, error) {
	if p := c.String("data"); p != "" {
		return p, nil
	}
	return datadir.DefaultPath()
}

// reorderArgs moves flags that follow a command's positional arguments in
// front of them, so `syncnode ls tasks --prefix t` works as users expect:
// urfave/cli, like the flag package, stops at the first positional argument.
// Flags given before the command name are moved after it too. Positional
// arguments are placed after "--", so a JSON value such as -5 or the stdin
// marker - is never taken for a flag.
func reorderArgs(app *cli.App, args []string) []string {
	idx := -1
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args
		}
		if !isFlag(a) {
			idx = i
			break
		}
		if !strings.Contains(a, "=") && anyTakesValue(app, a) {
			i++ // skip the flag's value
		}
	}
	if idx < 0 {
		return args
	}
	cmd := app.Command(args[idx])
	if cmd == nil {
		return args
	}
	rest := append(append([]string(nil), args[1:idx]...), args[idx+1:]...)
	// Descend into subcommands named right after the command, such as
	// `relay token revoke`: their flags are the ones that count.
	head := []string{args[0], args[idx]}
	for len(rest) > 0 {
		sub := cmd.Command(rest[0])
		if sub == nil {
			break
		}
		head, cmd, rest = append(head, rest[0]), sub, rest[1:]
	}
	var flags, pos []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			pos = append(pos, rest[i+1:]...)
			i = len(rest)
		case !isFlag(a):
			pos = append(pos, a)
		default:
			flags = append(flags, a)
			if !strings.Contains(a, "=") && takesValue(cmd, a) {
				if i+1 == len(rest) {
					// The value is missing: let the parser say so
					// instead of taking a positional argument for it.
					return append(head, flags...)
				}
				flags = append(flags, rest[i+1])
				i++
			}
		}
	}
	out := append(head, flags...)
	// "--" keeps a positional such as -5 from being read as a flag; it is
	// only added when needed, so a flag missing its value is reported as
	// such rather than swallowing "--".
	for _, p := range pos {
		if strings.HasPrefix(p, "-") {
			out = append(out, "--")
			break
		}
	}
	return append(out, pos...)
}

// anyTakesValue reports whether some command has a flag named like arg that
// takes a value: flags given before the command name are not yet tied to it.
func anyTakesValue(app *cli.App, arg string) bool {
	for _, c := range app.Commands {
		if takesValue(c, arg) {
			return true
		}
	}
	return false
}

// isFlag reports whether a looks like a flag rather than a value; negative
// numbers are values.
func isFlag(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	c := a[1]
	return !(c >= '0' && c <= '9' || c == '.')
}

func takesValue(cmd *cli.Command, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
