package httpsync_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/relay/httpsync"
)

func TestMarkedClientMustResync(t *testing.T) {
	r := newRelay(t)
	a := r.sync(t, tokenA, httpsync.SyncRequest{Changes: []httpsync.Push{put("tasks", "t1", `1`), put("tasks", "t2", `2`)}})
	r.clients.mark("laptop")

	// Resuming from a cursor is refused, and the push with it.
	res := r.post(t, tokenA, `{"since": 2, "changes": [`+validChange+`]}`)
	if res.code != http.StatusGone || !strings.Contains(res.errorText(t), "resync from since=0") {
		t.Fatalf("status %d: %s", res.code, res.body)
	}
	if r.head() != a.ServerSeq {
		t.Fatal("a refused resync request applied its push")
	}
	if got := r.clients.ackedBy("laptop"); !slices.Equal(got, []uint64{0}) {
		t.Fatalf("acks %v: a refused request was acknowledged", got)
	}
	// Another client is not affected.
	r.sync(t, tokenB, httpsync.SyncRequest{Since: a.ServerSeq})

	// A pull from 0 returns everything and clears the mark.
	full, _ := r.pullAll(t, tokenA, 0, 1)
	if len(full) != 2 || r.clients.NeedsResync("laptop") || !slices.Equal(r.clients.clearedClients(), []string{"laptop"}) {
		t.Fatalf("resync returned %d changes; still marked %v; cleared %v", len(full), r.clients.NeedsResync("laptop"), r.clients.clearedClients())
	}
	res = r.post(t, tokenA, `{"since": 2}`)
	if res.code != http.StatusOK {
		t.Fatalf("after resync: status %d: %s", res.code, res.body)
	}
	if got := r.clients.ackedBy("laptop"); !slices.Equal(got, []uint64{0, 0, 1, 2}) {
		t.Fatalf("acks %v, want each accepted request's since", got)
	}
}

func TestCursorBelowCollectedTombstones(t *testing.T) {
	r := newRelay(t)
	for _, k := range []string{"a", "b", "c", "d"} {
		r.sync(t, tokenA, httpsync.SyncRequest{Changes: []httpsync.Push{put("tasks", k, `1`)}})
	}
	r.gc.floor.Store(3)
	res := r.post(t, tokenB, `{"since": 2}`)
	if res.code != http.StatusGone || !strings.Contains(res.errorText(t), "resync from since=0") {
		t.Fatalf("since below the floor: status %d: %s", res.code, res.body)
	}
	for _, since := range []uint64{0, 3, 4} {
		r.sync(t, tokenB, httpsync.SyncRequest{Since: since})
	}
}

// gappedStore is a relay's store restored from a backup that ended at
// feed position 2: the store it replaced may have handed out positions
// from 3 up to its restore, and its own feed resumed at 1<<40.
type gappedStore struct{ httpsync.Store }

func (gappedStore) SkippedByRestore(pos uint64) (uint64, bool) { return 2, pos > 2 && pos < 1<<40 }

func TestCursorFromBeforeARestore(t *testing.T) {
	r := newRelay(t, func(c *httpsync.Config) { c.Store = gappedStore{c.Store} })
	for _, k := range []string{"a", "b", "c", "d"} {
		r.sync(t, tokenA, httpsync.SyncRequest{Changes: []httpsync.Push{put("tasks", k, `1`)}})
	}
	// A cursor the lost relay handed out after the backup: the changes
	// behind it may be gone, and a push with it is refused.
	head := r.head()
	res := r.post(t, tokenB, `{"since": 3, "changes": [`+validChange+`]}`)
	if res.code != http.StatusGone || !strings.Contains(res.errorText(t), "restored from a backup") {
		t.Fatalf("since inside the restore's gap: status %d: %s", res.code, res.body)
	}
	if r.head() != head {
		t.Fatal("a refused request applied its push")
	}
	// Cursors the backup holds are good, and so is a pull from 0.
	for _, since := range []uint64{0, 2} {
		r.sync(t, tokenB, httpsync.SyncRequest{Since: since})
	}
}
