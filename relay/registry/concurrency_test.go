package registry

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

// TestConcurrentUse runs every operation at once; -race checks the locking
// and the end state checks that no mutation was lost.
func TestConcurrentUse(t *testing.T) {
	r := openTest(t)
	const devices, rounds = 6, 40
	tokens := make([]string, devices)
	for i := range devices {
		tokens[i] = r.mustCreate(t, fmt.Sprintf("dev%d", i))
	}
	var revoked sync.Map
	r.OnRevoke(func(d Device) { revoked.Store(d.Name, true) })

	var wg sync.WaitGroup
	for i := range devices {
		name, tok, p := fmt.Sprintf("dev%d", i), tokens[i], testPeer(t, uint64(i))
		wg.Go(func() { // the device itself: pair, then authenticate and ack
			if _, err := r.Pair(tok, p); err != nil && !errors.Is(err, ErrRevoked) {
				t.Errorf("Pair %s: %v", name, err)
			}
			for n := range rounds {
				if _, err := r.Authenticate(tok); err != nil && !errors.Is(err, ErrRevoked) {
					t.Errorf("Authenticate %s: %v", name, err)
				}
				err := r.Ack(name, crdt.Vector{crdt.NodeID(name): uint64(n + 1)}, uint64(n))
				if err != nil && !errors.Is(err, ErrRevoked) {
					t.Errorf("Ack %s: %v", name, err)
				}
				r.Admitted(p)
				r.ByPeer(p)
			}
		})
	}
	wg.Go(func() { // the operator
		for i := 0; i < devices; i += 2 {
			if _, err := r.Revoke(fmt.Sprintf("dev%d", i)); err != nil {
				t.Errorf("Revoke: %v", err)
			}
			if _, err := r.Create(fmt.Sprintf("new%d", i)); err != nil {
				t.Errorf("Create: %v", err)
			}
		}
	})
	wg.Go(func() { // the relay's housekeeping
		for range rounds {
			_, _, expired := r.Quorum(time.Hour)
			if err := r.MarkResync(expired); err != nil {
				t.Errorf("MarkResync: %v", err)
			}
			r.List()
		}
	})
	wg.Wait()

	for i, tok := range tokens {
		name := fmt.Sprintf("dev%d", i)
		_, err := r.Authenticate(tok)
		_, hooked := revoked.Load(name)
		if wantRevoked := i%2 == 0; wantRevoked != errors.Is(err, ErrRevoked) || wantRevoked != hooked {
			t.Errorf("%s: Authenticate error %v, OnRevoke called %v; want revoked = %v", name, err, hooked, wantRevoked)
		}
		if d, _ := r.ByPeer(testPeer(t, uint64(i))); i%2 == 1 && (d.Cursor != rounds-1 || d.Ack[crdt.NodeID(name)] != rounds) {
			t.Errorf("%s: last Ack lost: cursor %d, ack %v", name, d.Cursor, d.Ack)
		}
	}
	mem, disk := r.List(), reopen(t, r.path, r.clock).List()
	if len(mem) != devices+devices/2 || len(disk) != len(mem) {
		t.Fatalf("%d devices in memory, %d on disk; want %d", len(mem), len(disk), devices+devices/2)
	}
	for i := range mem {
		if !sameDevice(mem[i], disk[i]) {
			t.Errorf("memory and disk disagree on %s:\n%+v\n%+v", mem[i].Name, mem[i], disk[i])
		}
	}
}
