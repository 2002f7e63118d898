package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// recordPath is a parsed record route. Namespaces may contain '/', so the
// last segment is the key and everything before it the namespace; a key
// holding '/' arrives escaped as %2F. A path of one segment, or one ending
// in '/', names a namespace alone.
type recordPath struct {
	ns, key string
	// hasKey is false for a one-segment path, which can only be listed.
	hasKey bool
}

func parseRecordPath(escaped string) (recordPath, error) {
	segs := strings.Split(strings.TrimPrefix(escaped, recordsPrefix), "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return recordPath{}, badRequest("malformed path segment %q: %v", seg, err)
		}
		segs[i] = u
	}
	n := len(segs)
	if n == 1 {
		return recordPath{ns: segs[0]}, nil
	}
	return recordPath{ns: strings.Join(segs[:n-1], "/"), key: segs[n-1], hasKey: true}, nil
}

// records dispatches /v1/records/...: GET on a namespace path lists it, and
// a path with a key takes GET, PUT and DELETE. PUT and DELETE on a path
// ending in '/' reach validation, which reports the empty key.
func (s *Server) records(w http.ResponseWriter, r *http.Request) {
	p, err := parseRecordPath(r.URL.EscapedPath())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case r.Method == http.MethodGet && p.key == "":
		s.list(w, r, p.ns)
	case !p.hasKey:
		notAllowed(w, r, http.MethodGet)
	case r.Method == http.MethodGet:
		s.get(w, r, p.ns, p.key)
	case r.Method == http.MethodPut:
		s.put(w, r, p.ns, p.key)
	case r.Method == http.MethodDelete:
		s.delete(w, r, p.ns, p.key)
	default:
		notAllowed(w, r, http.MethodDelete, http.MethodGet, http.MethodPut)
	}
}

func validateName(ns, key string) error {
	if err := crdt.ValidateNamespace(ns); err != nil {
		return err
	}
	return crdt.ValidateKey(key)
}

// validateWrite also keeps clients out of the system namespaces, which only
// syncnode itself writes.
func validateWrite(ns, key string) error {
	if err := validateName(ns, key); err != nil {
		return err
	}
	if crdt.IsSystemNamespace(ns) {
		return fmt.Errorf("%w: namespace %q is reserved for syncnode", crdt.ErrInvalid, ns)
	}
	return nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, ns, key string) {
	if err := validateName(ns, key); err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.b.Get(ns, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteJSON(w, http.StatusNotFound, Error{Error: fmt.Sprintf("record %s/%s not found", ns, key)})
	case err != nil:
		s.fail(w, r, fmt.Errorf("get %s/%s: %w", ns, key, err))
	case rec.Deleted:
		WriteJSON(w, http.StatusNotFound, Error{Error: fmt.Sprintf("record %s/%s was deleted", ns, key)})
	default:
		WriteJSON(w, http.StatusOK, FromRecord(rec))
	}
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, ns, key string) {
	if err := validateWrite(ns, key); err != nil {
		s.fail(w, r, err)
		return
	}
	value, err := readValue(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.b.Put(r.Context(), ns, key, value)
	if err != nil {
		s.fail(w, r, fmt.Errorf("put %s/%s: %w", ns, key, err))
		return
	}
	WriteJSON(w, http.StatusOK, WriteResponse{Version: FromVersion(v)})
}

// errTooLarge refuses a request body over the value size limit.
var errTooLarge = &requestError{http.StatusRequestEntityTooLarge,
	fmt.Sprintf("value larger than the %d-byte limit", crdt.MaxValueSize)}

// readValue reads the request body as one JSON value of at most
// crdt.MaxValueSize bytes and returns it compacted.
func readValue(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > crdt.MaxValueSize {
		return nil, errTooLarge
	}
	var body bytes.Buffer
	if r.ContentLength > 0 {
		body.Grow(int(r.ContentLength))
	}
	_, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, crdt.MaxValueSize+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || body.Len() > crdt.MaxValueSize {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, badRequest("read body: %v", err)
	}
	var compact bytes.Buffer
	compact.Grow(body.Len())
	if err := json.Compact(&compact, body.Bytes()); err != nil {
		return nil, badRequest("body is not a valid JSON value: %v", err)
	}
	return compact.Bytes(), nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, ns, key string) {
	if err := validateWrite(ns, key); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.b.Delete(r.Context(), ns, key)
	if err != nil {
		s.fail(w, r, fmt.Errorf("delete %s/%s: %w", ns, key, err))
		return
	}
	WriteJSON(w, http.StatusOK, WriteResponse{Version: FromVersion(v)})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, ns string) {
	if err := crdt.ValidateNamespace(ns); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, more, err := s.b.List(ns, q.Get("prefix"), q.Get("after"), limit)
	if err != nil {
		s.fail(w, r, fmt.Errorf("list %s: %w", ns, err))
		return
	}
	res := ListResponse{Records: make([]Record, len(recs))}
	for i, rec := range recs {
		res.Records[i] = FromRecord(rec)
	}
	if more && len(recs) > 0 {
		res.Next = recs[len(recs)-1].Key
	}
	WriteJSON(w, http.StatusOK, res)
}
