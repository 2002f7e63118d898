package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// serveUntilSignal waits until ctx ends (SIGINT or SIGTERM, see main),
// closes what the command runs, and reports that it stopped.
func serveUntilSignal(ctx context.Context, p printer, logger *slog.Logger, running io.Closer) error {
	<-ctx.Done()
	logger.Info("shutting down")
	if err := running.Close(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if p.json {
		return p.encode(map[string]string{"event": "stopped"})
	}
	fmt.Fprintln(p.w, "stopped")
	return nil
}
