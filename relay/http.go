package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/relay/httpsync"
	"github.com/syncnode/syncnode/store"
)

// serveHTTP serves thin clients' POST /v1/sync and /healthz.
func (r *Relay) serveHTTP() {
	r.http = &http.Server{
		Handler: httpsync.NewHandler(httpsync.Config{
			Auth:    httpAuth{r},
			Store:   httpStore{Store: r.node.Store(), node: r.node},
			Clients: httpClients{r},
			Logger:  r.opts.Logger,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return r.ctx },
	}
	r.spawn(func() {
		if err := r.http.Serve(r.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("http sync server stopped", "err", err)
		}
	})
}

// httpStore is the relay's store as HTTP sync sees it, with writes going
// through the node so that devices hear of them by gossip.
type httpStore struct {
	*store.Store
	node *node.Node
}

func (s httpStore) WriteAll(ctx context.Context, ws []store.Write) ([]store.WriteResult, error) {
	return s.node.WriteAll(ctx, ws)
}

// httpAuth checks thin clients' tokens, limiting failures per source
// address before any hashing.
type httpAuth struct{ r *Relay }

func (a httpAuth) Authenticate(_ context.Context, token, source string) (string, error) {
	if d, ok := a.r.reg.Remembered(token); ok {
		return d.Name, nil
	}
	if !a.r.limiter.Allow(source) {
		return "", &httpsync.RateLimitedError{RetryAfter: failedEvery}
	}
	d, err := a.r.reg.Authenticate(token)
	if err != nil {
		a.r.limiter.Fail(source)
		return "", fmt.Errorf("%w: %w", httpsync.ErrUnauthorized, err)
	}
	return d.Name, nil
}

// httpClients records thin clients' cursors as acknowledged vectors, via
// the relay's checkpoints, so that collection waits for them as for
// devices.
type httpClients struct{ r *Relay }

func (c httpClients) NeedsResync(client string) bool {
	for _, d := range c.r.reg.List() {
		if d.Name == client {
			return d.Resync
		}
	}
	return false
}

func (c httpClients) ClearResync(client string) error { return c.r.reg.ClearResync(client) }

func (c httpClients) Ack(client string, cursor uint64) error {
	vec, ok := c.r.marks.at(cursor)
	if !ok {
		return nil
	}
	return c.r.reg.Ack(client, vec, cursor)
}
