package client

import (
	"context"
	"net/http"

	"github.com/syncnode/syncnode/node/api"
)

// Devices lists the group's devices as the node knows them.
func (c *Client) Devices(ctx context.Context) ([]api.Device, error) {
	var res api.DevicesResponse
	err := c.call(ctx, http.MethodGet, "/v1/devices", nil, nil, &res)
	return res.Devices, err
}

// Revoke revokes a device, by name or ID, for the whole group.
func (c *Client) Revoke(ctx context.Context, nameOrID string) (api.Device, error) {
	var res api.RevokeResponse
	err := c.Call(ctx, http.MethodPost, "/v1/devices/revoke", api.RevokeRequest{Device: nameOrID}, &res)
	return res.Device, err
}
