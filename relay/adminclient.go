package relay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/syncnode/syncnode/node/client"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/relay/registry"
)

// Admin is a running relay's admin API, reached through its local API
// client. `syncnode relay token` uses it: Badger locks the data dir, so
// changes go through the relay that holds it, and take effect at once.
type Admin struct{ C *client.Client }

// CreateToken creates a device token, expiring at expires unless that is
// zero; the token is shown only this once.
func (a Admin) CreateToken(ctx context.Context, name string, expires time.Time) (NewToken, error) {
	var out NewToken
	in := struct {
		Name    string    `json:"name"`
		Expires time.Time `json:"expires,omitzero"`
	}{name, expires}
	err := a.C.Call(ctx, http.MethodPost, adminPrefix+"tokens", in, &out)
	return out, err
}

// Devices lists the registry.
func (a Admin) Devices(ctx context.Context) ([]Device, error) {
	var out struct {
		Devices []Device `json:"devices"`
	}
	err := a.C.Call(ctx, http.MethodGet, adminPrefix+"tokens", nil, &out)
	return out.Devices, err
}

// Revoke revokes a device's token; it is cut off at once.
func (a Admin) Revoke(ctx context.Context, name string) (Device, error) {
	var out struct {
		Device Device `json:"device"`
	}
	err := a.C.Call(ctx, http.MethodDelete, adminPrefix+"tokens/"+url.PathEscape(name), nil, &out)
	return out.Device, err
}

// Info describes the running relay.
func (a Admin) Info(ctx context.Context) (Info, error) {
	var out Info
	err := a.C.Call(ctx, http.MethodGet, adminPrefix+"relay", nil, &out)
	return out, err
}

// Offline administers the registry of a relay that is not running, straight
// from its data dir. Only use it while no relay runs on the dir: a running
// relay would overwrite its changes.
type Offline struct{ Reg *registry.Registry }

// OpenOffline opens a stopped relay's registry.
func OpenOffline(dataDir string) (Offline, error) {
	dir, err := datadir.Open(dataDir)
	if err != nil {
		return Offline{}, err
	}
	if _, err := dir.Network(); err != nil {
		return Offline{}, fmt.Errorf("relay: %w: %s holds no group network: %w", ErrNotRelayDir, dir.Path, err)
	}
	reg, err := registry.Open(filepath.Join(dir.Path, DevicesFile), time.Now)
	return Offline{Reg: reg}, err
}

// CreateToken creates a device token.
func (o Offline) CreateToken(_ context.Context, name string, expires time.Time) (NewToken, error) {
	tok, err := o.Reg.CreateUntil(name, expires)
	return NewToken{Name: name, Token: tok}, err
}

// Devices lists the registry.
func (o Offline) Devices(context.Context) ([]Device, error) {
	list := o.Reg.List()
	out := make([]Device, len(list))
	for i, d := range list {
		out[i] = deviceOf(d)
	}
	return out, nil
}

// Revoke revokes a device's token.
func (o Offline) Revoke(_ context.Context, name string) (Device, error) {
	d, err := o.Reg.Revoke(name)
	return deviceOf(d), err
}
