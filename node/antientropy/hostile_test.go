package antientropy

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/syncnode/syncnode/crdt"
)

// frame encodes one frame.
func frame(t frameType, payload []byte) []byte {
	return append(appendHeader(nil, t, len(payload)), payload...)
}

// batchFrame encodes recs as one batch frame.
func batchFrame(recs ...crdt.Record) []byte {
	p := appendBatchCount(nil, len(recs))
	for _, r := range recs {
		p = crdt.AppendRecord(p, r)
	}
	return frame(frameBatch, p)
}

func doneFrame(v crdt.Vector) []byte { return frame(frameDone, appendVector(nil, v)) }

func seededBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestHostileResponder runs a real initiator against a responder that
// sends scripted bytes, and checks that the initiator keeps what was valid,
// reports what was not, and never joins a vector it cannot back.
func TestHostileResponder(t *testing.T) {
	valid := genRecords("origin-v", 1, 5, 16)
	yOK := genRecords("origin-y", 2, 1, 16)[0]
	badValue := genRecords("origin-y", 1, 1, 16)[0]
	badValue.Value = []byte("not json")
	badNS := genRecords("origin-n", 1, 1, 16)[0]
	badNS.NS = "../up"
	future := genRecords("origin-f", 1, 1, 16)[0]
	future.Version.HLC = crdt.NewTimestamp(baseMS+time.Hour.Milliseconds(), 0)
	garbage := seededBytes(7, 4096)
	garbage[0] = 0x7f

	cases := []struct {
		name       string
		script     []byte
		wantErr    error // nil: the session succeeds
		rejectIs   error // every OnReject error wraps it; nil: no rejects
		rejects    int
		applied    []crdt.Record
		wantVector crdt.Vector // entries checked after the session
		skipped    []crdt.NodeID
	}{
		{name: "garbage", script: garbage, wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "garbage batch", script: frame(frameBatch, seededBytes(8, 2000)), wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "truncated frame", script: concat(batchFrame(valid...), batchFrame(yOK)[:10]),
			wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1, applied: valid, wantVector: crdt.Vector{"origin-v": 5}},
		{name: "ends before done", script: batchFrame(valid...),
			wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1, applied: valid},
		{name: "oversized frame", script: appendHeader(nil, frameBatch, MaxFrameSize+1), wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "overlong length", script: []byte{byte(frameBatch), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "empty batch", script: frame(frameBatch, []byte{0}), wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "batch count lies", script: frame(frameBatch, crdt.AppendRecord([]byte{3}, valid[0])), wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "unexpected frame", script: frame(frameVector, appendVector(nil, crdt.Vector{"x": 1})), wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
		{name: "bad done vector", script: concat(batchFrame(valid...), frame(frameDone, []byte{2, 1, 'a', 1, 1, 'a', 2})),
			wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1, applied: valid, wantVector: crdt.Vector{"origin-v": 5}},
		{name: "invalid records", script: concat(batchFrame(append(valid, badValue, badNS, yOK)...),
			doneFrame(crdt.Vector{"origin-v": 5, "origin-y": 9, "origin-n": 1, "origin-w": 3})),
			rejectIs: crdt.ErrInvalid, rejects: 2, applied: append(valid, yOK),
			wantVector: crdt.Vector{"origin-v": 5, "origin-y": 0, "origin-n": 0, "origin-w": 3},
			skipped:    []crdt.NodeID{"origin-n", "origin-y"}},
		{name: "future stamp", script: concat(batchFrame(future), batchFrame(valid...), doneFrame(crdt.Vector{"origin-f": 1, "origin-v": 5})),
			rejectIs: crdt.ErrClockSkew, rejects: 1, applied: valid,
			wantVector: crdt.Vector{"origin-f": 0, "origin-v": 5}, skipped: []crdt.NodeID{"origin-f"}},
		{name: "error frame", script: frame(frameError, appendError(nil, codeInternal, "boom")), wantErr: ErrRemote},
		{name: "bad error frame", script: frame(frameError, nil), wantErr: crdt.ErrCorrupt, rejectIs: crdt.ErrCorrupt, rejects: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := mustHosts(t, 2)
			victim := mustNode(t, hs[0], nil)
			mustApply(t, victim.st, genRecords("origin-pre", 1, 20, 16))
			before := victim.st.Digest()
			hs[1].SetStreamHandler(ProtocolID, func(s network.Stream) {
				defer s.Close()
				if _, _, err := readFrame(bufio.NewReader(s), nil); err != nil {
					return
				}
				_, _ = s.Write(tc.script)
			})

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := victim.svc.Sync(ctx, hs[1].ID())
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("sync error %v, want %v", err, tc.wantErr)
			}

			rejects := victim.rej.list()
			if len(rejects) != tc.rejects {
				t.Errorf("%d rejects, want %d: %v", len(rejects), tc.rejects, rejects)
			}
			for _, r := range rejects {
				if !errors.Is(r, tc.rejectIs) {
					t.Errorf("reject %v does not wrap %v", r, tc.rejectIs)
				}
			}
			want := before
			for _, r := range tc.applied {
				want.Add(r)
				got, err := victim.st.Get(r.NS, r.Key)
				if err != nil || !reflect.DeepEqual(got, r) {
					t.Errorf("record %s/%s: got %+v, %v", r.NS, r.Key, got, err)
				}
			}
			if got := victim.st.Digest(); got != want {
				t.Errorf("digest %s, want %s (state changed beyond the valid records)", got, want)
			}
			vec := victim.st.Vector()
			for id, seq := range tc.wantVector {
				if vec[id] != seq {
					t.Errorf("vector[%s] = %d, want %d", id, vec[id], seq)
				}
			}
			if vec["origin-pre"] != 20 {
				t.Errorf("pre-existing vector entry lost: %v", vec)
			}
			if !reflect.DeepEqual(res.Skipped, tc.skipped) {
				t.Errorf("skipped %v, want %v", res.Skipped, tc.skipped)
			}
		})
	}
}

// TestHostileInitiator sends malformed requests to a real responder, which
// must refuse them, report the peer, and keep serving.
func TestHostileInitiator(t *testing.T) {
	cases := map[string][]byte{
		"garbage":          seededBytes(9, 512),
		"huge vector":      frame(frameVector, []byte{0xc0, 0x84, 0x3d}), // claims 1,000,000 origins
		"truncated":        appendHeader(nil, frameVector, 100),
		"batch not vector": batchFrame(genRecords("origin-x", 1, 1, 8)...),
		"nothing":          nil,
	}
	for name, script := range cases {
		t.Run(name, func(t *testing.T) {
			hs := mustHosts(t, 3)
			src := mustNode(t, hs[0], nil)
			mustApply(t, src.st, genRecords("origin-s", 1, 10, 16))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			s, err := hs[1].NewStream(ctx, hs[0].ID(), ProtocolID)
			if err != nil {
				t.Fatalf("open stream: %v", err)
			}
			_, _ = s.Write(script)
			_ = s.CloseWrite()
			typ, payload, err := readFrame(bufio.NewReader(s), nil)
			_ = s.Close()
			if err != nil || typ != frameError {
				t.Fatalf("responder answered %v %v, want an error frame", typ, err)
			}
			if rerr, err := decodeError(payload); err != nil || rerr.Code != codeBadRequest {
				t.Errorf("error frame %+v, %v; want bad request", rerr, err)
			}
			waitFor(t, "responder to report the peer", func() bool { return len(src.rej.list()) == 1 })
			if !errors.Is(src.rej.list()[0], crdt.ErrCorrupt) {
				t.Errorf("reject %v does not wrap ErrCorrupt", src.rej.list()[0])
			}

			honest := mustNode(t, hs[2], nil)
			if res := mustSync(t, honest, hs[0].ID()); res.RecordsApplied != 10 {
				t.Errorf("responder served %d records after the attack, want 10", res.RecordsApplied)
			}
		})
	}
}
