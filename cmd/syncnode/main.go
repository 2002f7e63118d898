// Command syncnode keeps small JSON records in sync across devices.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts a clean shutdown, a second one kills
	// the process the default way.
	go func() { <-ctx.Done(); stop() }()
	err := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "syncnode: %v\n", err)
		os.Exit(exitCode(err))
	}
}
