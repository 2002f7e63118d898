package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/syncnode/syncnode/node/invite"
)

// ErrCannotInvite is returned by Backend.Invite on a node that holds no
// group secret, which is a relay.
var ErrCannotInvite = errors.New("a relay cannot invite devices: run `syncnode invite` on a device of the group")

// maxInviteBody bounds the body of POST /v1/invites.
const maxInviteBody = 1 << 10

// createInvite answers POST /v1/invites, body {"ttl":"15m"} or none, with a
// fresh single-use join code: 201 {"code","expires"}.
func (s *Server) createInvite(w http.ResponseWriter, r *http.Request) {
	ttl, err := readInviteTTL(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	inv, err := s.b.Invite(r.Context(), ttl)
	if err != nil {
		s.fail(w, r, fmt.Errorf("invite: %w", err))
		return
	}
	WriteJSON(w, http.StatusCreated, inv)
}

// readInviteTTL reads the requested lifetime: invite.DefaultTTL unless the
// body names one within invite.MinTTL and invite.MaxTTL.
func readInviteTTL(r *http.Request) (time.Duration, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInviteBody+1))
	if err != nil {
		return 0, badRequest("read body: %v", err)
	}
	if len(body) > maxInviteBody {
		return 0, badRequest("body over %d bytes", maxInviteBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invite.DefaultTTL, nil
	}
	var req InviteRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return 0, badRequest(`body must be {"ttl":"15m"} or empty: %v`, err)
	}
	if req.TTL == "" {
		return invite.DefaultTTL, nil
	}
	ttl, err := time.ParseDuration(req.TTL)
	if err != nil {
		return 0, badRequest("ttl %q: want a duration such as 15m or 2h", req.TTL)
	}
	if ttl < invite.MinTTL || ttl > invite.MaxTTL {
		return 0, badRequest("ttl %v: an invite is valid for %v to %v", ttl, invite.MinTTL, invite.MaxTTL)
	}
	return ttl, nil
}
