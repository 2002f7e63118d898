package gossip_test

import (
	"reflect"
	"testing"

	"github.com/syncnode/syncnode/node/gossip"
)

// FuzzDecodeBatch checks that DecodeBatch never panics, never returns more
// records than allowed, and that whatever it accepts survives another round
// trip unchanged. Seeds are in testdata/fuzz/FuzzDecodeBatch.
func FuzzDecodeBatch(f *testing.F) {
	const maxRecords = 1024
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := gossip.DecodeBatch(data, maxRecords)
		if err != nil {
			return
		}
		if len(recs) > maxRecords {
			t.Fatalf("decoded %d records, limit %d", len(recs), maxRecords)
		}
		again, err := gossip.DecodeBatch(gossip.EncodeBatch(recs), maxRecords)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, recs) {
			t.Fatalf("round trip changed the records")
		}
	})
}
