package client

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/syncnode/syncnode/node/api"
)

// Backup streams a consistent full backup of the node's store into w and
// returns the bytes copied. A backup cut short, by the node or the
// connection, is an error, never a silently partial result.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	res, err := c.send(ctx, http.MethodGet, "/v1/backup", nil, nil, api.BackupContentType)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != api.BackupContentType {
		return 0, fmt.Errorf("backup: response is %q, not a backup", ct)
	}
	n, err := io.Copy(w, res.Body)
	if err != nil {
		return n, fmt.Errorf("backup: after %d bytes: %w", n, err)
	}
	return n, nil
}
