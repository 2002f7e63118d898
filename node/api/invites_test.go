package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/invite"
)

// inviteAt is a fixed clock for the fake backend's invites.
var inviteAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeInvites makes the backend hand out invites named after their ttl.
func fakeInvites(ttl time.Duration) (api.Invite, error) {
	return api.Invite{Code: "code-" + ttl.String(), Expires: inviteAt.Add(ttl)}, nil
}

func TestCreateInvite(t *testing.T) {
	ts, b := newServer(t)
	b.SetInvite(fakeInvites)
	for body, ttl := range map[string]time.Duration{
		"":              invite.DefaultTTL,
		"  \n":          invite.DefaultTTL,
		"{}":            invite.DefaultTTL,
		`{"ttl":""}`:    invite.DefaultTTL,
		`{"ttl":"1m"}`:  time.Minute,
		`{"ttl":"24h"}`: 24 * time.Hour,
		`{"ttl":"90m"}`: 90 * time.Minute,
	} {
		got := decode[api.Invite](t, do(t, ts, request{method: "POST", path: "/v1/invites", body: body}).want(t, 201))
		if got.Code != "code-"+ttl.String() || !got.Expires.Equal(inviteAt.Add(ttl)) {
			t.Errorf("body %q: got %+v, want a %v invite", body, got, ttl)
		}
	}
}

func TestCreateInviteBadRequests(t *testing.T) {
	ts, b := newServer(t)
	b.SetInvite(fakeInvites)
	for body, want := range map[string]string{
		`{"ttl":"59s"}`:      "1m0s to 24h0m0s",
		`{"ttl":"25h"}`:      "1m0s to 24h0m0s",
		`{"ttl":"-5m"}`:      "1m0s to 24h0m0s",
		`{"ttl":"soon"}`:     "duration",
		`{"ttl":15}`:         "ttl",
		`{"lifetime":"15m"}`: "unknown field",
		`not json`:           "body",
		`{"ttl":"` + strings.Repeat("1", 2000) + `"}`: "over",
	} {
		res := do(t, ts, request{method: "POST", path: "/v1/invites", body: body}).want(t, 400)
		if e := decode[api.Error](t, res); !strings.Contains(e.Error, want) {
			t.Errorf("body %.40q: error %q, want it to mention %q", body, e.Error, want)
		}
	}
	do(t, ts, request{method: "GET", path: "/v1/invites"}).want(t, 405)
	do(t, ts, request{method: "POST", path: "/v1/invites", auth: "-"}).want(t, 401)
}

func TestCreateInviteRefusals(t *testing.T) {
	ts, b := newServer(t)
	// The fake starts as a relay does: no secret to hand out.
	res := do(t, ts, request{method: "POST", path: "/v1/invites"}).want(t, 409)
	if e := decode[api.Error](t, res); !strings.Contains(e.Error, "a relay cannot invite devices") {
		t.Errorf("relay error %q", e.Error)
	}
	b.SetInvite(func(time.Duration) (api.Invite, error) {
		return api.Invite{}, fmt.Errorf("node: %w", invite.ErrTooManyPending)
	})
	do(t, ts, request{method: "POST", path: "/v1/invites"}).want(t, 429)
	b.SetInvite(func(time.Duration) (api.Invite, error) { return api.Invite{}, fmt.Errorf("boom") })
	do(t, ts, request{method: "POST", path: "/v1/invites"}).want(t, 500)
}
