package apitest

import (
	"context"
	"time"

	"github.com/syncnode/syncnode/node/api"
)

// SetInvite sets what Invite does; until then it fails with
// api.ErrCannotInvite, as a relay does.
func (b *Backend) SetInvite(f func(ttl time.Duration) (api.Invite, error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.invite = f
}

// Invite calls the function last set with SetInvite.
func (b *Backend) Invite(_ context.Context, ttl time.Duration) (api.Invite, error) {
	b.mu.Lock()
	f := b.invite
	b.mu.Unlock()
	if f == nil {
		return api.Invite{}, api.ErrCannotInvite
	}
	return f(ttl)
}
