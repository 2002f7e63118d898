package httpsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// fuzzBodyLimit keeps fuzzed bodies, and so the decoder's work, small.
const fuzzBodyLimit = 64 << 10

// FuzzDecodeSyncRequest feeds arbitrary bodies to the request decoder and
// the per-change checks. Neither may panic; a refusal must be a 400 or 413;
// an accepted request must respect the limits and encode back to itself;
// and a change accepted for the store must be one the store's own
// validation accepts. The seed corpus is in testdata/fuzz.
func FuzzDecodeSyncRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r := http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(body)), fuzzBodyLimit)
		req, err := decodeRequest(r)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || (re.status != http.StatusBadRequest && re.status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("decode error %v is not a 400 or 413", err)
			}
			return
		}
		if req.Limit < 1 || req.Limit > MaxLimit || len(req.Changes) > MaxChanges {
			t.Fatalf("accepted limit %d with %d changes", req.Limit, len(req.Changes))
		}
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode accepted request: %v", err)
		}
		again, err := decodeRequest(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the request:\n%s\n%s", enc, enc2)
		}
		for _, p := range req.Changes {
			w, err := toWrite(p)
			if err != nil {
				continue
			}
			rec := crdt.Record{NS: w.NS, Key: w.Key, Value: w.Value, Deleted: w.Deleted,
				Version: crdt.Version{HLC: 1, Origin: "relay", Seq: 1}}
			if err := rec.Validate(); err != nil {
				t.Fatalf("change %+v accepted, but the store would refuse it: %v", p, err)
			}
		}
	})
}
