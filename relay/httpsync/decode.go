package httpsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// decodeRequest reads one SyncRequest from r and checks its shape: the
// limits of the whole request, not the content of each change. The changes
// are decoded one at a time and counted as they come, so a body of many
// tiny changes is refused before it can cost more memory than MaxChanges
// changes do. An error is a *requestError.
func decodeRequest(r io.Reader) (SyncRequest, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var req SyncRequest
	switch tok, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return SyncRequest{}, badRequest(`empty body: send a JSON object such as {"since": 0}`)
	case err != nil:
		return SyncRequest{}, malformed(err, "")
	case tok != json.Delim('{'):
		return SyncRequest{}, badRequest("malformed request: the body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return SyncRequest{}, malformed(err, "")
		}
		name, _ := tok.(string) // an object's keys are always strings
		if seen[name] {
			return SyncRequest{}, badRequest("field %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "since":
			err = decodeSince(dec, &req)
		case "limit":
			err = decodeLimit(dec, &req)
		case "changes":
			req.Changes, err = decodeChanges(dec)
		default:
			err = badRequest("unknown field %q (expected since, limit, changes)", name)
		}
		if err != nil {
			return SyncRequest{}, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return SyncRequest{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return SyncRequest{}, badRequest("the body holds more than one JSON value")
		}
		return SyncRequest{}, malformed(err, "")
	}
	if req.Limit == 0 {
		req.Limit = DefaultLimit
	}
	return req, nil
}

func decodeSince(dec *json.Decoder, req *SyncRequest) error {
	raw, err := decodeRaw(dec, "since")
	if err != nil {
		return err
	}
	since, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return badRequest("since must be a non-negative integer, not %s", excerpt(raw))
	}
	req.Since = since
	return nil
}

func decodeLimit(dec *json.Decoder, req *SyncRequest) error {
	raw, err := decodeRaw(dec, "limit")
	if err != nil {
		return err
	}
	limit, err := strconv.Atoi(string(raw))
	if err != nil || limit < 1 || limit > MaxLimit {
		return badRequest("limit must be an integer from 1 to %d (absent means %d), not %s",
			MaxLimit, DefaultLimit, excerpt(raw))
	}
	req.Limit = limit
	return nil
}

// decodeChanges reads the changes array, or null, one change at a time.
func decodeChanges(dec *json.Decoder) ([]Push, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err, "changes")
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, badRequest("malformed request: changes must be an array")
	}
	var ps []Push
	for dec.More() {
		if len(ps) == MaxChanges {
			return nil, badRequest("more than %d changes in one request: send them in several", MaxChanges)
		}
		var p Push
		if err := dec.Decode(&p); err != nil {
			return nil, malformed(err, fmt.Sprintf("changes[%d]", len(ps)))
		}
		ps = append(ps, p)
	}
	return ps, expectDelim(dec, ']')
}

// decodeRaw reads the value of field name.
func decodeRaw(dec *json.Decoder, name string) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed(err, name)
	}
	return raw, nil
}

// expectDelim reads the next token and fails unless it is d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return malformed(err, "")
	}
	if tok != d {
		return badRequest("malformed request: expected %q", d)
	}
	return nil
}

// malformed turns a read or decode error into a request error: 413 if the
// body hit its size limit, else 400. field, if set, locates the error.
func malformed(err error, field string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &requestError{status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body larger than the %d-byte limit: send fewer changes per request", mbe.Limit)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("malformed request: the body ends before its JSON does")
	}
	if field != "" {
		return badRequest("malformed request: %s: %v", field, err)
	}
	return badRequest("malformed request: %v", err)
}

// excerpt quotes at most a few dozen bytes of raw for an error message.
func excerpt(raw json.RawMessage) string {
	const shown = 32
	if len(raw) > shown {
		return string(raw[:shown]) + "..."
	}
	return string(raw)
}
