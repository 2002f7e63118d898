package testnet

import (
	"context"
	"time"
)

// pollInterval is how often waits re-check their condition. Checks are
// in-process reads, so a short interval costs little and keeps measured
// times close to the truth.
const pollInterval = 2 * time.Millisecond

// poll calls cond until it returns true or ctx ends, and returns ctx's error
// in that case.
func poll(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
