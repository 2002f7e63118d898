package gossip_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/gossip"
)

// randomRecords returns n varied records from a seeded source.
func randomRecords(rng *rand.Rand, n int) []crdt.Record {
	recs := make([]crdt.Record, n)
	for i := range recs {
		r := crdt.Record{
			NS:  []string{"tasks", "notes", "work/tasks"}[rng.IntN(3)],
			Key: fmt.Sprintf("key-%d-%d", i, rng.Uint32()),
			Version: crdt.Version{
				HLC:    crdt.NewTimestamp(baseMS+rng.Int64N(1000), uint16(rng.IntN(100))),
				Origin: crdt.NodeID(fmt.Sprintf("origin-%d", rng.IntN(4))),
				Seq:    rng.Uint64N(1 << 40),
			},
		}
		if rng.IntN(5) == 0 {
			r.Deleted = true
		} else {
			r.Value = []byte(fmt.Sprintf(`{"n":%d}`, rng.Int()))
		}
		recs[i] = r
	}
	return recs
}

func TestBatchRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 127, 128, 1000} {
		recs := randomRecords(rng, n)
		got, err := gossip.DecodeBatch(gossip.EncodeBatch(recs), n)
		if err != nil {
			t.Fatalf("%d records: decode: %v", n, err)
		}
		if len(got) != n || (n > 0 && !reflect.DeepEqual(got, recs)) {
			t.Fatalf("%d records: round trip changed them", n)
		}
	}
}

func TestDecodeBatchRejects(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(3, 4)), 3)
	valid := gossip.EncodeBatch(recs)
	hugeCount := binary.AppendUvarint([]byte{1}, 1<<40)
	hugeCount = append(hugeCount, valid[2:]...)

	cases := map[string]struct {
		data       []byte
		maxRecords int
	}{
		"empty":            {nil, 10},
		"unknown format":   {append([]byte{9}, valid[1:]...), 10},
		"bad count varint": {[]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
		"over maxRecords":  {valid, 2},
		"count beyond len": {hugeCount, 1 << 62},
		"truncated":        {valid[:len(valid)-1], 10},
		"trailing bytes":   {append(append([]byte(nil), valid...), 0), 10},
		"fewer than count": {append([]byte{1, 4}, valid[2:]...), 10},
	}
	for name, tc := range cases {
		if _, err := gossip.DecodeBatch(tc.data, tc.maxRecords); !errors.Is(err, crdt.ErrCorrupt) {
			t.Errorf("%s: err = %v, want crdt.ErrCorrupt", name, err)
		}
	}
}

func TestDecodeBatchBoundsAllocation(t *testing.T) {
	// A few bytes claiming the most records a batch may hold must fail
	// before allocating room for them (some 6 MB per call).
	data := binary.AppendUvarint([]byte{1}, gossip.MaxBatchRecords)
	data = append(data, make([]byte, 64)...)
	const calls = 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		if _, err := gossip.DecodeBatch(data, gossip.MaxBatchRecords); !errors.Is(err, crdt.ErrCorrupt) {
			t.Fatalf("err = %v, want crdt.ErrCorrupt", err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes allocated refusing %d impossible batches", n, calls)
	}
}

func TestDecodeBatchCopiesInput(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(5, 6)), 4)
	data := gossip.EncodeBatch(recs)
	got, err := gossip.DecodeBatch(data, 4)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	clear(data)
	if !reflect.DeepEqual(got, recs) {
		t.Error("decoded records alias the message buffer")
	}
}
