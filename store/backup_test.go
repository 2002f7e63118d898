package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// populate gives s live records, tombstones, its own and a peer's writes,
// and a write held beyond a gap.
func populate(tb testing.TB, s *Store) {
	tb.Helper()
	for i := range 20 {
		mustPut(tb, s, "tasks", fmt.Sprintf("t%02d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	mustDelete(tb, s, "tasks", "t03")
	mustDelete(tb, s, "notes", "never")
	mustApply(tb, s,
		remote("notes", "n1", `"peer"`, stamp(0), "p1", 1),
		remote("notes", "n2", ``, stamp(0), "p1", 2),
		remote("notes", "far", `"beyond a gap"`, stamp(0), "p2", 5),
	)
}

func mustBackup(tb testing.TB, s *Store) []byte {
	tb.Helper()
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil {
		tb.Fatalf("backup: %v", err)
	}
	if n != int64(buf.Len()) {
		tb.Fatalf("backup reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// restoreDir restores backup into a fresh directory and returns it.
func restoreDir(tb testing.TB, backup []byte, standalone bool) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "db")
	if err := Restore(dir, bytes.NewReader(backup), standalone); err != nil {
		tb.Fatalf("restore: %v", err)
	}
	return dir
}

func openDir(tb testing.TB, dir string, origin crdt.NodeID) fixture {
	tb.Helper()
	clk := newManualClock(baseMS + 60_000)
	opts := testOptions(origin, clk)
	opts.Dir = dir
	return fixture{Store: mustOpen(tb, opts), clk: clk}
}

func feed(tb testing.TB, s *Store) []Change {
	tb.Helper()
	changes, _, err := s.Changes(0, "", 1000)
	if err != nil {
		tb.Fatal(err)
	}
	return changes
}

func TestBackupRestore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			src := b.fixture(t, "self")
			populate(t, src.Store)
			backup := mustBackup(t, src.Store)

			dst := openDir(t, restoreDir(t, backup, false), "self")
			requireSameState(t, src.Store, dst.Store)
			if !maps.Equal(src.Vector(), dst.Vector()) {
				t.Fatalf("vector %v, restored %v", src.Vector(), dst.Vector())
			}
			moved := src.Stats()
			moved.FeedHead = dst.Stats().FeedHead
			if !statsEqual(moved, dst.Stats()) {
				t.Fatalf("stats %+v, restored %+v", src.Stats(), dst.Stats())
			}
			head, next := src.Stats().FeedHead, moved.FeedHead
			if next < head+restoreFeedMargin {
				t.Fatalf("restoring a backup with feed head %d resumed the feed at %d", head, next)
			}
			for pos, want := range map[uint64]bool{head: false, head + 1: true, next - 1: true, next: false} {
				if from, ok := dst.SkippedByRestore(pos); ok != want || ok && from != head {
					t.Errorf("SkippedByRestore(%d) = %d, %v; want %v (backup head %d, feed resumed at %d)", pos, from, ok, want, head, next)
				}
			}
			if a, b := feed(t, src.Store), feed(t, dst.Store); len(a) != len(b) || a[len(a)-1].Pos != b[len(b)-1].Pos {
				t.Fatalf("feed of %d entries up to %d, restored %d", len(a), a[len(a)-1].Pos, len(b))
			}
			if !dst.Restored() {
				t.Fatal("restored store is not marked restored")
			}
			checkConsistentHeadAhead(t, dst.Store)
		})
	}
}

// TestRestoreKeepsCursorsValid: a reader that followed the store past its
// last backup, and holds a cursor beyond the backup's feed, still sees
// every change the restored store makes; so does one that followed a store
// restored from the same backup before.
func TestRestoreKeepsCursorsValid(t *testing.T) {
	ctx := context.Background()
	src := backends[1].fixture(t, "self")
	populate(t, src.Store)
	backup := mustBackup(t, src.Store)
	for i := range 50 {
		mustPut(t, src.Store, "tasks", fmt.Sprintf("lost-%d", i), `1`)
	}
	cursor := src.Stats().FeedHead // the reader has seen all of it

	for round := range 2 {
		dst := openDir(t, restoreDir(t, backup, true), "self")
		if _, ok := dst.SkippedByRestore(cursor); !ok {
			t.Fatalf("round %d: the reader's cursor %d is not among the positions the restore skipped", round, cursor)
		}
		key := fmt.Sprintf("after-restore-%d", round)
		v, err := dst.Put(ctx, "tasks", key, []byte(`2`))
		if err != nil {
			t.Fatal(err)
		}
		changes, _, err := dst.Changes(cursor, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 1 || changes[0].Record.Key != key || changes[0].Record.Version != v {
			t.Fatalf("round %d: changes after the reader's cursor %d: %+v, want the write made after the restore", round, cursor, changes)
		}
		cursor = changes[0].Pos // it follows this store now, until it is lost too
		dst.Close()
	}
}

// TestRestoreOfARestoredStoreKeepsItsGaps: a cursor handed out by the
// store a restore replaced is still known as one after the restored store
// is itself backed up and restored.
func TestRestoreOfARestoredStoreKeepsItsGaps(t *testing.T) {
	ctx := context.Background()
	src := backends[1].fixture(t, "self")
	populate(t, src.Store)
	backup := mustBackup(t, src.Store)
	backupHead := src.Stats().FeedHead
	mustPut(t, src.Store, "tasks", "lost", `1`)
	lost := src.Stats().FeedHead // a reader of the lost store holds this

	first := openDir(t, restoreDir(t, backup, true), "self")
	if _, err := first.Put(ctx, "tasks", "after-first", []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	again := mustBackup(t, first.Store)
	second := openDir(t, restoreDir(t, again, true), "self")
	if from, ok := second.SkippedByRestore(lost); !ok || from != backupHead {
		t.Fatalf("cursor %d of the first lost store: SkippedByRestore = %d, %v", lost, from, ok)
	}
	if _, ok := second.SkippedByRestore(first.Stats().FeedHead); ok {
		t.Fatal("a position the first restored store handed out, and its backup holds, counts as skipped")
	}
}

// TestRestoreWithStaleSeqCounter: a backup whose counter of local writes
// is behind the writes it holds (hand-edited, or corrupt) still restores to
// a store whose next write takes a fresh seq, not one peers have merged.
func TestRestoreWithStaleSeqCounter(t *testing.T) {
	src := backends[1].fixture(t, "self")
	populate(t, src.Store)
	top := src.Vector().Get("self")
	backup := append(mustBackup(t, src.Store), frame(t, string(metaSelfSeq), string(u64(0)))...)

	dst := openDir(t, restoreDir(t, backup, true), "self")
	v, err := dst.Put(context.Background(), "tasks", "fresh", []byte(`1`))
	if err != nil {
		t.Fatal(err)
	}
	if v.Seq <= top {
		t.Fatalf("first write after restoring took seq %d; the backup holds writes up to %d", v.Seq, top)
	}
}

// TestBackupEmptyStore: even a store that never took a write has a
// backup that restores.
func TestBackupEmptyStore(t *testing.T) {
	src := backends[1].fixture(t, "self")
	dst := openDir(t, restoreDir(t, mustBackup(t, src.Store), false), "self")
	if st := dst.Stats(); st.Live != 0 || st.Tombstones != 0 || !dst.Restored() {
		t.Fatalf("restored empty store: %+v, restored %v", st, dst.Restored())
	}
}

func statsEqual(a, b Stats) bool {
	return a.Live == b.Live && a.Tombstones == b.Tombstones && a.FeedHead == b.FeedHead &&
		a.Digest == b.Digest && maps.Equal(a.Vector, b.Vector)
}

// TestRestoredRefusesLocalWrites: a restored store takes peers' records,
// including its own writes made after the backup, refuses local writes
// until cleared, and then continues its seq above everything it merged.
func TestRestoredRefusesLocalWrites(t *testing.T) {
	src := backends[0].fixture(t, "self")
	populate(t, src.Store)
	backup := mustBackup(t, src.Store)
	later := mustPut(t, src.Store, "tasks", "after-backup", `1`) // a peer holds it

	dir := restoreDir(t, backup, false)
	dst := openDir(t, dir, "self")
	ctx := context.Background()
	if _, err := dst.Put(ctx, "tasks", "x", []byte(`1`)); !errors.Is(err, ErrRestored) {
		t.Fatalf("put on restored store: %v, want ErrRestored", err)
	}
	if _, err := dst.Delete(ctx, "tasks", "t00"); !errors.Is(err, ErrRestored) {
		t.Fatalf("delete on restored store: %v, want ErrRestored", err)
	}
	if _, err := dst.WriteAll(ctx, []Write{{NS: "tasks", Key: "x", Value: []byte(`1`)}}); !errors.Is(err, ErrRestored) {
		t.Fatalf("write all on restored store: %v, want ErrRestored", err)
	}
	// The marker survives a restart.
	dst.Close()
	dst = openDir(t, dir, "self")
	if !dst.Restored() {
		t.Fatal("restored marker lost on reopen")
	}
	rec := mustGet(t, src.Store, "tasks", "after-backup")
	if res := mustApply(t, dst.Store, rec); len(res.Applied) != 1 {
		t.Fatalf("apply on restored store: %+v", res)
	}
	if err := dst.ClearRestored(ctx); err != nil {
		t.Fatal(err)
	}
	if dst.Restored() {
		t.Fatal("still restored after ClearRestored")
	}
	v := mustPut(t, dst.Store, "tasks", "x", `1`)
	if v.Seq != later.Seq+1 {
		t.Fatalf("first local write after restore has seq %d, want %d", v.Seq, later.Seq+1)
	}
	dst.Close()
	if dst = openDir(t, dir, "self"); dst.Restored() {
		t.Fatal("ClearRestored was not persisted")
	}
	if err := dst.ClearRestored(ctx); err != nil {
		t.Fatalf("clearing an unmarked store: %v", err)
	}
}

func TestRestoreStandalone(t *testing.T) {
	src := backends[1].fixture(t, "self")
	populate(t, src.Store)
	dst := openDir(t, restoreDir(t, mustBackup(t, src.Store), true), "self")
	if dst.Restored() {
		t.Fatal("standalone restore is marked restored")
	}
	if v := mustPut(t, dst.Store, "tasks", "x", `1`); v.Seq != src.Vector()["self"]+1 {
		t.Fatalf("put after standalone restore has seq %d", v.Seq)
	}
	// Backing up a marked store and restoring it standalone clears the mark.
	marked := openDir(t, restoreDir(t, mustBackup(t, src.Store), false), "self")
	again := openDir(t, restoreDir(t, mustBackup(t, marked.Store), true), "self")
	if again.Restored() {
		t.Fatal("standalone restore of a marked store's backup is marked")
	}
}

// TestBackupUnderWrites: a backup taken while writes commit is one
// consistent state, which Restore verifies.
func TestBackupUnderWrites(t *testing.T) {
	src := backends[0].fixture(t, "self")
	populate(t, src.Store)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			if _, err := src.Put(context.Background(), "load", fmt.Sprintf("k%d", i%50), fmt.Appendf(nil, "%d", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var backups [][]byte
	for range 3 {
		backups = append(backups, mustBackup(t, src.Store))
	}
	wg.Wait()
	for _, b := range backups {
		dst := openDir(t, restoreDir(t, b, true), "self")
		checkConsistentHeadAhead(t, dst.Store)
	}
}

func TestRestoreRejectsBadInput(t *testing.T) {
	src := backends[0].fixture(t, "self")
	populate(t, src.Store)
	good := mustBackup(t, src.Store)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	first, _, err := src.Changes(0, "", 1)
	if err != nil || len(first) != 1 {
		t.Fatalf("changes: %v %v", first, err)
	}
	v := first[0].Record.Version
	elsewhere := "t\x00not-a-record"
	cases := map[string][]byte{
		"feed names another key":   append(slicesClone(good), frame(t, string(feedKey(first[0].Pos)), elsewhere)...),
		"index names another key":  append(slicesClone(good), frame(t, string(originKey(v.Origin, v.Seq)), elsewhere)...),
		"empty":                    nil,
		"text":                     []byte("this is not a backup, just some text\n"),
		"random":                   random,
		"huge frame":               append(huge, "xyz"...),
		"truncated":                good[:len(good)/2],
		"short header":             good[:5],
		"missing frame":            dropFrame(t, good),
		"foreign key":              frame(t, "\x00foreign", "v"),
		"no format":                frame(t, string(metaHLC), string(u64(1))),
		"corrupt metadata":         append(slicesClone(good), frame(t, string(metaLive), "x")...),
		"feed head past cursors":   append(slicesClone(good), frame(t, string(metaFeedHead), string(u64(maxFeedHead)))...),
		"corrupt feed gap":         append(slicesClone(good), frame(t, string(metaFeedGaps), "short")...),
		"clock behind its records": append(slicesClone(good), frame(t, string(metaHLC), string(u64(1)))...),
	}
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			err := Restore(dir, bytes.NewReader(input), false)
			if !errors.Is(err, ErrBadBackup) {
				t.Fatalf("restore: %v, want ErrBadBackup", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("failed restore left %s behind: %v", dir, err)
			}
		})
	}

	t.Run("non-empty dir", func(t *testing.T) {
		dir := t.TempDir()
		keep := filepath.Join(dir, "keep")
		if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Restore(dir, bytes.NewReader(good), false); err == nil {
			t.Fatal("restore into a non-empty dir succeeded")
		}
		if _, err := os.Stat(keep); err != nil {
			t.Fatalf("refused restore touched the dir: %v", err)
		}
	})
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

// frame encodes one backup frame holding key=value, as Badger's stream does.
func frame(tb testing.TB, key, value string) []byte {
	tb.Helper()
	// KVList{kv: [KV{key, value, version: 1}]} in protobuf wire format.
	kv := appendBytesField(nil, 1, []byte(key))
	kv = appendBytesField(kv, 2, []byte(value))
	kv = append(kv, 4<<3, 1)
	list := appendBytesField(nil, 1, kv)
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(list))), list...)
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field<<3|2))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// dropFrame removes the first frame of a backup that holds several.
func dropFrame(tb testing.TB, backup []byte) []byte {
	tb.Helper()
	n := binary.LittleEndian.Uint64(backup)
	rest := backup[8+n:]
	if len(rest) == 0 {
		// One frame: keep its header and cut the body in half instead.
		return backup[:8+n/2]
	}
	return rest
}

func TestBackupClosed(t *testing.T) {
	s := backends[1].fixture(t, "self")
	s.Close()
	if _, err := s.Backup(&bytes.Buffer{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("backup of a closed store: %v, want ErrClosed", err)
	}
}

// FuzzRestore feeds Restore arbitrary input: it must fail cleanly or yield
// a consistent store, never panic or allocate what the input claims.
func FuzzRestore(f *testing.F) {
	s := backends[1].fixture(f, "self")
	mustPut(f, s.Store, "t", "k", `1`)
	mustDelete(f, s.Store, "t", "d")
	good := mustBackup(f, s.Store)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte("garbage"))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Fuzz(func(t *testing.T, input []byte) {
		dir := filepath.Join(t.TempDir(), "db")
		if err := Restore(dir, bytes.NewReader(input), false); err != nil {
			if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("failed restore (%v) left its dir", err)
			}
			return
		}
		checkConsistentHeadAhead(t, openDir(t, dir, "self").Store)
	})
}
