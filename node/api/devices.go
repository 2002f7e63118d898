package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// maxRevokeBody bounds POST /v1/devices/revoke's body: a name or an ID.
const maxRevokeBody = 4 << 10

func (s *Server) devices(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, DevicesResponse{Devices: s.b.Devices()})
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	var req RevokeRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRevokeBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.fail(w, r, badRequest(`revoke: body must be {"device":"NAME or ID"}: %v`, err))
		return
	}
	if req.Device = strings.TrimSpace(req.Device); req.Device == "" {
		s.fail(w, r, badRequest(`revoke: body must be {"device":"NAME or ID"}: device is empty`))
		return
	}
	d, err := s.b.Revoke(r.Context(), req.Device)
	if err != nil {
		s.fail(w, r, fmt.Errorf("revoke %q: %w", req.Device, err))
		return
	}
	WriteJSON(w, http.StatusOK, RevokeResponse{Device: d})
}
