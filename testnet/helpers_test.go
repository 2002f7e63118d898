package testnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/syncnode/syncnode/testnet"
)

// testTimeout bounds every wait in a test.
const testTimeout = 30 * time.Second

// newNet starts a net for t and closes it when t ends.
func newNet(t testing.TB, opts testnet.Options) *testnet.Net {
	t.Helper()
	if opts.SyncInterval == 0 {
		opts.SyncInterval = time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	n, err := testnet.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return n
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
