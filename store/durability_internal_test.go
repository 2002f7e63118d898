package store

import (
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestSyncerSchedule checks when the commit loop fsyncs: at once for an
// acknowledged write, and for records from peers only once they have
// waited maxUnsyncedAge or hold maxUnsyncedPositions feed positions.
func TestSyncerSchedule(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	disk := func() *syncer { return &syncer{db: &badger.DB{}, synced: 100} }

	y := disk()
	if y.due(true, 100, t0) {
		t.Error("sync due with nothing committed")
	}
	if _, ok := y.wait(t0); ok {
		t.Error("idle loop told to sync with nothing committed")
	}

	y.committed(t0)
	if !y.due(true, 101, t0) {
		t.Error("acknowledged write not synced at once")
	}
	if y.due(false, 101, t0.Add(maxUnsyncedAge-time.Millisecond)) {
		t.Error("records from peers synced before maxUnsyncedAge")
	}
	if !y.due(false, 101, t0.Add(maxUnsyncedAge)) {
		t.Error("records from peers not synced after maxUnsyncedAge")
	}
	if !y.due(false, 100+maxUnsyncedPositions, t0) {
		t.Error("records from peers not synced at maxUnsyncedPositions")
	}
	y.committed(t0.Add(400 * time.Millisecond)) // a later commit keeps the oldest time
	if d, ok := y.wait(t0.Add(300 * time.Millisecond)); !ok || d != maxUnsyncedAge-300*time.Millisecond {
		t.Errorf("idle wait = %v, %v; want %v", d, ok, maxUnsyncedAge-300*time.Millisecond)
	}
	if d, ok := y.wait(t0.Add(2 * maxUnsyncedAge)); !ok || d != 0 {
		t.Errorf("overdue idle wait = %v, %v; want 0", d, ok)
	}

	mem := &syncer{}
	mem.committed(t0)
	if mem.due(true, 1, t0.Add(time.Hour)) {
		t.Error("in-memory store told to sync")
	}
}
