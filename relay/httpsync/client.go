package httpsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/seal"
)

// Client is a thin client of a relay's HTTP sync, for Go programs. Given
// the group's value key, it seals what it pushes to encrypted namespaces
// and opens what it pulls, so the relay only ever sees ciphertext; without
// it, it can write only to namespaces under open/ (the relay refuses
// plaintext elsewhere) and gets sealed values back as they are.
type Client struct {
	// URL is the relay's base URL, such as https://relay.example.com.
	URL string
	// Token is a device token from `syncnode relay token create`.
	Token string
	// Key is the group's value key (group.Secret.ValueKey); nil for none.
	Key *seal.Key
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
}

// Sync pushes req.Changes, sealing their values if the client has the key,
// and returns what the relay answered, with sealed values opened.
func (c *Client) Sync(ctx context.Context, req SyncRequest) (SyncResponse, error) {
	sealed := req
	sealed.Changes = make([]Push, len(req.Changes))
	for i, p := range req.Changes {
		if c.Key != nil && !p.Deleted && seal.Encrypted(p.NS) {
			v, err := c.Key.SealKeyBound(p.NS, p.Key, p.Value)
			if err != nil {
				return SyncResponse{}, fmt.Errorf("httpsync client: %w", err)
			}
			p.Value = v
		}
		sealed.Changes[i] = p
	}
	body, err := json.Marshal(sealed)
	if err != nil {
		return SyncResponse{}, fmt.Errorf("httpsync client: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+SyncPath, bytes.NewReader(body))
	if err != nil {
		return SyncResponse{}, fmt.Errorf("httpsync client: %w", err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.Token)
	hr.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(hr)
	if err != nil {
		return SyncResponse{}, fmt.Errorf("httpsync client: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var e api.Error
		_ = json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&e)
		return SyncResponse{}, fmt.Errorf("httpsync client: HTTP %d: %s", res.StatusCode, e.Error)
	}
	var out SyncResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return SyncResponse{}, fmt.Errorf("httpsync client: decode response: %w", err)
	}
	if c.Key == nil {
		return out, nil
	}
	for i, ch := range out.Changes {
		if ch.Deleted || !seal.IsSealed(ch.Value) {
			continue
		}
		v, err := api.ToVersion(ch.Version)
		if err != nil {
			return out, fmt.Errorf("httpsync client: change %s/%s: %w", ch.NS, ch.Key, err)
		}
		plain, err := c.Key.Open(crdt.Record{NS: ch.NS, Key: ch.Key, Value: ch.Value, Version: v})
		if err != nil {
			return out, fmt.Errorf("httpsync client: %w", err)
		}
		out.Changes[i].Value = plain
	}
	return out, nil
}
