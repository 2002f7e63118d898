package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func testPutGet(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	v1 := mustPut(t, s.Store, "tasks", "a", `{"n":1}`)
	if v1.Origin != "self" || v1.Seq != 1 || v1.HLC == 0 {
		t.Fatalf("first version = %v, want origin self, seq 1, non-zero hlc", v1)
	}
	got := mustGet(t, s.Store, "tasks", "a")
	if string(got.Value) != `{"n":1}` || got.Deleted || got.Version != v1 || got.NS != "tasks" || got.Key != "a" {
		t.Fatalf("get after put = %+v", got)
	}

	v2 := mustPut(t, s.Store, "tasks", "a", `{"n":2}`)
	if v2.Seq != 2 || v2.HLC <= v1.HLC {
		t.Fatalf("overwrite version %v does not follow %v", v2, v1)
	}
	if got := mustGet(t, s.Store, "tasks", "a"); string(got.Value) != `{"n":2}` || got.Version != v2 {
		t.Fatalf("get after overwrite = %+v", got)
	}
	checkConsistent(t, s.Store)
}

func testDeleteTombstone(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	put := mustPut(t, s.Store, "tasks", "a", `"x"`)
	del := mustDelete(t, s.Store, "tasks", "a")
	if del.Seq != put.Seq+1 || del.HLC <= put.HLC {
		t.Fatalf("delete version %v does not follow put %v", del, put)
	}
	got := mustGet(t, s.Store, "tasks", "a")
	if !got.Deleted || got.Value != nil || got.Version != del {
		t.Fatalf("get after delete = %+v, want tombstone at %v", got, del)
	}

	// A key this replica never saw still gets a tombstone.
	never := mustDelete(t, s.Store, "tasks", "ghost")
	if got := mustGet(t, s.Store, "tasks", "ghost"); !got.Deleted || got.Version != never {
		t.Fatalf("get of deleted unseen key = %+v", got)
	}

	// Writing again resurrects the key with a newer version.
	again := mustPut(t, s.Store, "tasks", "a", `"y"`)
	if got := mustGet(t, s.Store, "tasks", "a"); got.Deleted || string(got.Value) != `"y"` || got.Version != again {
		t.Fatalf("get after rewrite = %+v", got)
	}
	if st := s.Stats(); st.Live != 1 || st.Tombstones != 1 {
		t.Fatalf("stats live/tombstones = %d/%d, want 1/1", st.Live, st.Tombstones)
	}
	checkConsistent(t, s.Store)
}

func testNotFound(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	if _, err := s.Get("tasks", "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get on empty store: err = %v, want ErrNotFound", err)
	}
	mustPut(t, s.Store, "tasks", "ab", `1`)
	for _, key := range []string{"a", "abc", "b"} {
		if _, err := s.Get("tasks", key); !errors.Is(err, ErrNotFound) {
			t.Errorf("get %q beside %q: err = %v, want ErrNotFound", key, "ab", err)
		}
	}
}

func testNamespacesSeparate(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "t", "k", `"t"`)
	mustPut(t, s.Store, "t2", "k", `"t2"`)
	mustPut(t, s.Store, "t/sub", "k", `"t/sub"`)
	mustDelete(t, s.Store, "t2", "k")
	for ns, want := range map[string]string{"t": `"t"`, "t/sub": `"t/sub"`} {
		if got := mustGet(t, s.Store, ns, "k"); string(got.Value) != want || got.Deleted {
			t.Errorf("get %s/k = %+v, want %s", ns, got, want)
		}
	}
	recs, more, err := s.List("t", "", "", 10)
	if err != nil || more || len(recs) != 1 || recs[0].NS != "t" {
		t.Fatalf("list t = %v more=%v err=%v, want only t/k", describe(recs), more, err)
	}
}

func testInvalidInput(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ctx := context.Background()
	oversized := []byte(`"` + strings.Repeat("x", crdt.MaxValueSize-1) + `"`)
	cases := []struct {
		name      string
		ns, key   string
		value     []byte
		deleteToo bool // the same ns/key must also fail Delete
	}{
		{"empty namespace", "", "k", []byte(`1`), true},
		{"namespace with space", "my tasks", "k", []byte(`1`), true},
		{"dot segment", "tasks/..", "k", []byte(`1`), true},
		{"empty segment", "a//b", "k", []byte(`1`), true},
		{"long namespace", strings.Repeat("n", crdt.MaxNamespaceLen+1), "k", []byte(`1`), true},
		{"empty key", "tasks", "", []byte(`1`), true},
		{"key with NUL", "tasks", "a\x00b", []byte(`1`), true},
		{"key not UTF-8", "tasks", "\xff\xfe", []byte(`1`), true},
		{"long key", "tasks", strings.Repeat("k", crdt.MaxKeyLen+1), []byte(`1`), true},
		{"value not JSON", "tasks", "k", []byte(`{"a":`), false},
		{"empty value", "tasks", "k", nil, false},
		{"two JSON values", "tasks", "k", []byte(`1 2`), false},
		{"oversized value", "tasks", "k", oversized, false},
	}
	for _, tc := range cases {
		if _, err := s.Put(ctx, tc.ns, tc.key, tc.value); !errors.Is(err, crdt.ErrInvalid) {
			t.Errorf("put %s: err = %v, want crdt.ErrInvalid", tc.name, err)
		}
		if !tc.deleteToo {
			continue
		}
		if _, err := s.Delete(ctx, tc.ns, tc.key); !errors.Is(err, crdt.ErrInvalid) {
			t.Errorf("delete %s: err = %v, want crdt.ErrInvalid", tc.name, err)
		}
	}
	// Nothing was written, and no seq or feed position was used up.
	if st := s.Stats(); st.Live != 0 || st.Tombstones != 0 || st.FeedHead != 0 || len(st.Vector) != 0 || st.Digest != (crdt.Digest{}) {
		t.Fatalf("stats after rejected writes = %+v, want empty", st)
	}
	if _, err := s.Get("tasks", "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after rejected puts: err = %v, want ErrNotFound", err)
	}
	if v := mustPut(t, s.Store, "tasks", "k", `1`); v.Seq != 1 {
		t.Fatalf("first accepted write has seq %d, want 1", v.Seq)
	}
	checkConsistent(t, s.Store)
}

// TestLargestValue writes values of the largest allowed size while small
// writes run beside them. On disk they are stored; an in-memory Badger
// cannot hold them in one entry and refuses them alone, without failing the
// writes that share their commit.
func TestLargestValue(t *testing.T) {
	largest := []byte(`"` + strings.Repeat("x", crdt.MaxValueSize-2) + `"`)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.fixture(t, "self")
			ctx := context.Background()
			var wg sync.WaitGroup
			small := make([]error, 16)
			for i := range small {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, small[i] = s.Put(ctx, "t", fmt.Sprintf("small%d", i), []byte(`1`))
				}()
			}
			_, err := s.Put(ctx, "t", "big", largest)
			wg.Wait()
			for i, err := range small {
				if err != nil {
					t.Errorf("small write %d: %v", i, err)
				}
			}
			if b.name == "memory" {
				if !errors.Is(err, crdt.ErrInvalid) {
					t.Fatalf("in-memory put of %d bytes: err = %v, want crdt.ErrInvalid", len(largest), err)
				}
				if _, err := s.Get("t", "big"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("refused value visible: %v", err)
				}
				checkConsistent(t, s.Store)
				return
			}
			if err != nil {
				t.Fatalf("put of %d bytes: %v", len(largest), err)
			}
			if got := mustGet(t, s.Store, "t", "big"); string(got.Value) != string(largest) {
				t.Fatalf("read back %d bytes", len(got.Value))
			}
			checkConsistent(t, s.Store)
		})
	}
}

// testConcurrentWriters runs a bounded number of writers at once, some on
// shared keys, and checks that every acknowledged write got its own seq and
// that each key holds the newest acknowledged version.
func testConcurrentWriters(t *testing.T, b backend) {
	const writers, perWriter = 8, 40
	s := b.fixture(t, "self")
	type ack struct {
		key string
		v   crdt.Version
	}
	acks := make([][]ack, writers)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				key := fmt.Sprintf("w%d-%d", w, i)
				if i%4 == 0 {
					key = fmt.Sprintf("shared-%d", i%3)
				}
				v, err := s.Put(context.Background(), "load", key, fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i))
				if err != nil {
					errs <- fmt.Errorf("writer %d put %d: %w", w, i, err)
					return
				}
				acks[w] = append(acks[w], ack{key, v})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	seqs := map[uint64]bool{}
	newest := map[string]crdt.Version{}
	for _, as := range acks {
		for _, a := range as {
			if seqs[a.v.Seq] {
				t.Fatalf("seq %d acknowledged twice", a.v.Seq)
			}
			seqs[a.v.Seq] = true
			if cur, ok := newest[a.key]; !ok || a.v.Compare(cur) > 0 {
				newest[a.key] = a.v
			}
		}
	}
	const total = writers * perWriter
	if len(seqs) != total {
		t.Fatalf("%d distinct seqs, want %d", len(seqs), total)
	}
	if got := s.Vector().Get("self"); got != total {
		t.Fatalf("vector[self] = %d, want %d", got, total)
	}
	for key, v := range newest {
		if got := mustGet(t, s.Store, "load", key); got.Version != v {
			t.Errorf("%s holds %v, newest acknowledged is %v", key, got.Version, v)
		}
	}
	checkConsistent(t, s.Store)
}
