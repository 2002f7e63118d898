package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/node/api"
)

func TestDevicesListAndRevoke(t *testing.T) {
	ts, b := newServer(t)
	b.SetDevices([]api.Device{
		{ID: "id-laptop", Name: "laptop", Self: true},
		{ID: "id-phone", Name: "phone"},
		{ID: "id-tab1", Name: "tablet"},
		{ID: "id-tab2", Name: "tablet"},
	})
	res := do(t, ts, request{method: http.MethodGet, path: "/v1/devices"})
	if res.code != http.StatusOK || !strings.Contains(string(res.body), `"name":"phone"`) {
		t.Fatalf("GET /v1/devices = %d %s", res.code, res.body)
	}
	res = do(t, ts, request{method: http.MethodPost, path: "/v1/devices/revoke", body: `{"device":"phone"}`})
	if res.code != http.StatusOK || !strings.Contains(string(res.body), `"revoked":true`) {
		t.Fatalf("revoke phone = %d %s", res.code, res.body)
	}
	for name, tc := range map[string]struct {
		method, body string
		want         int
	}{
		"unknown device":     {http.MethodPost, `{"device":"toaster"}`, http.StatusNotFound},
		"ambiguous name":     {http.MethodPost, `{"device":"tablet"}`, http.StatusConflict},
		"this device itself": {http.MethodPost, `{"device":"laptop"}`, http.StatusBadRequest},
		"not JSON":           {http.MethodPost, `phone`, http.StatusBadRequest},
		"empty device":       {http.MethodPost, `{"device":" "}`, http.StatusBadRequest},
		"unknown field":      {http.MethodPost, `{"name":"phone"}`, http.StatusBadRequest},
		"oversized body":     {http.MethodPost, `{"device":"` + strings.Repeat("x", 8<<10) + `"}`, http.StatusBadRequest},
		"wrong method":       {http.MethodGet, ``, http.StatusMethodNotAllowed},
	} {
		res := do(t, ts, request{method: tc.method, path: "/v1/devices/revoke", body: tc.body})
		if res.code != tc.want || !strings.Contains(string(res.body), `"error"`) {
			t.Errorf("%s: %d %s, want %d with an error", name, res.code, res.body, tc.want)
		}
	}
}
