package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=..."; by
// default it comes from the module's build info.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// run runs the command line args (args[0] is the program name).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	app := newApp(stdin, stdout, stderr)
	return app.RunContext(ctx, reorderArgs(app, args))
}

// newApp wires every command. It holds no logic of its own: commands parse
// flags, call node (or its client) and print the result.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:            "syncnode",
		Usage:           "keep small JSON records in sync across your devices, no server required",
		Version:         buildVersion(),
		Reader:          stdin,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		// main prints the error once, with the exit status it implies.
		ExitErrHandler: func(*cli.Context, error) {},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(c.App.ErrWriter, "syncnode: unknown command %q; see syncnode --help\n", name)
			os.Exit(2)
		},
		Commands: []*cli.Command{
			initCommand(),
			inviteCommand(),
			joinCommand(),
			runCommand(),
			relayCommand(),
			putCommand(),
			getCommand(),
			delCommand(),
			lsCommand(),
			watchCommand(),
			statusCommand(),
			healthCommand(),
			peersCommand(),
			devicesCommand(),
			testnetCommand(),
			backupCommand(), restoreCommand(),
		},
		OnUsageError: onUsageError,
	}
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
	}
	return app
}

// onUsageError turns a flag parsing error into a usage error (exit 2)
// without printing the whole help text into the output.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageError{msg: fmt.Sprintf("%v; see syncnode %s --help", err, c.Command.Name)}
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: "usage: " + fmt.Sprintf(format, args...)}
}

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
