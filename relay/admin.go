package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/relay/registry"
)

// adminPrefix is where the relay's admin routes hang off the local API,
// behind its token and Host check:
//
//	POST   /v1/admin/tokens         {"name":"laptop","expires"?} → 201 {"name","token"}
//	GET    /v1/admin/tokens         → {"devices":[...]}
//	DELETE /v1/admin/tokens/{name}  → {"device":{...}}  (revokes at once)
//	GET    /v1/admin/relay          → {"id","addrs","http","server_seq"}
const adminPrefix = "/v1/admin/"

// Device is a registry entry as the admin API shows it.
type Device struct {
	Name      string     `json:"name"`
	Created   time.Time  `json:"created"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
	Peer      string     `json:"peer,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	Resync    bool       `json:"resync,omitempty"`
}

// NewToken is the answer to a token creation: the token is shown once.
type NewToken struct {
	Name  string `json:"name"`
	Token string `json:"token"`
}

// Info describes a running relay.
type Info struct {
	ID        string   `json:"id"`
	Addrs     []string `json:"addrs"`
	HTTP      string   `json:"http,omitempty"`
	ServerSeq uint64   `json:"server_seq"`
}

func deviceOf(d registry.Device) Device {
	out := Device{Name: d.Name, Created: d.Created.UTC(), Revoked: d.Revoked, Resync: d.Resync}
	if d.Peer != "" {
		out.Peer = d.Peer.String()
	}
	if !d.Expires.IsZero() {
		t := d.Expires.UTC()
		out.Expires = &t
	}
	if !d.RevokedAt.IsZero() {
		t := d.RevokedAt.UTC()
		out.RevokedAt = &t
	}
	if !d.LastSeen.IsZero() {
		t := d.LastSeen.UTC()
		out.LastSeen = &t
	}
	return out
}

func (r *Relay) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/admin/tokens", r.createToken)
	mux.HandleFunc("GET /v1/admin/tokens", r.listTokens)
	mux.HandleFunc("DELETE /v1/admin/tokens/{name}", r.revokeToken)
	mux.HandleFunc("GET /v1/admin/relay", r.info)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		api.WriteJSON(w, http.StatusNotFound, api.Error{Error: fmt.Sprintf("no route %s %s", req.Method, req.URL.Path)})
	})
	return mux
}

func (r *Relay) createToken(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Name    string    `json:"name"`
		Expires time.Time `json:"expires"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		api.WriteJSON(w, http.StatusBadRequest, api.Error{Error: `body must be {"name":"...","expires":"RFC 3339 time, optional"}: ` + err.Error()})
		return
	}
	if !body.Expires.IsZero() && !body.Expires.After(r.opts.Now()) {
		api.WriteJSON(w, http.StatusBadRequest, api.Error{Error: "expires must be in the future"})
		return
	}
	token, err := r.reg.CreateUntil(strings.TrimSpace(body.Name), body.Expires)
	if err != nil {
		adminFail(w, err)
		return
	}
	r.log.Info("device token created", "device", body.Name)
	api.WriteJSON(w, http.StatusCreated, NewToken{Name: body.Name, Token: token})
}

func (r *Relay) listTokens(w http.ResponseWriter, _ *http.Request) {
	list := r.reg.List()
	out := make([]Device, len(list))
	for i, d := range list {
		out[i] = deviceOf(d)
	}
	api.WriteJSON(w, http.StatusOK, struct {
		Devices []Device `json:"devices"`
	}{out})
}

func (r *Relay) revokeToken(w http.ResponseWriter, req *http.Request) {
	d, err := r.reg.Revoke(req.PathValue("name"))
	if err != nil {
		adminFail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, struct {
		Device Device `json:"device"`
	}{deviceOf(d)})
}

func (r *Relay) info(w http.ResponseWriter, _ *http.Request) {
	api.WriteJSON(w, http.StatusOK, r.Info())
}

// Info describes the relay.
func (r *Relay) Info() Info {
	info := Info{ID: r.ID().String(), HTTP: r.HTTPAddr(), ServerSeq: r.node.Store().Stats().FeedHead}
	for _, a := range r.Addrs() {
		info.Addrs = append(info.Addrs, a.String())
	}
	return info
}

func adminFail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, registry.ErrBadName):
		code = http.StatusBadRequest
	case errors.Is(err, registry.ErrExists):
		code = http.StatusConflict
	case errors.Is(err, registry.ErrUnknown):
		code = http.StatusNotFound
	}
	api.WriteJSON(w, code, api.Error{Error: err.Error()})
}
