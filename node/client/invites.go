package client

import (
	"context"
	"net/http"
	"time"

	"github.com/syncnode/syncnode/node/api"
)

// Invite asks the node for a single-use join code valid for ttl; zero means
// the node's default (15 minutes).
func (c *Client) Invite(ctx context.Context, ttl time.Duration) (api.Invite, error) {
	var req api.InviteRequest
	if ttl != 0 {
		req.TTL = ttl.String()
	}
	var res api.Invite
	err := c.Call(ctx, http.MethodPost, "/v1/invites", req, &res)
	return res, err
}
