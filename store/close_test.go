package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func testChanged(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ch := s.Changed()
	if closed(ch) {
		t.Fatal("Changed fired before any write")
	}
	mustPut(t, s.Store, "t", "k", `1`)
	if !closed(ch) {
		t.Fatal("Changed did not fire on a put")
	}

	// Stale records and joins change no record, so they wake no one.
	ch = s.Changed()
	mustApply(t, s.Store, remote("t", "k", `0`, stamp(-10), "p", 1))
	if err := s.Join(context.Background(), crdt.Vector{"q": 3}); err != nil {
		t.Fatal(err)
	}
	if closed(ch) {
		t.Fatal("Changed fired without a record change")
	}
	mustApply(t, s.Store, remote("t", "k2", `0`, stamp(10), "p", 2))
	if !closed(ch) {
		t.Fatal("Changed did not fire on an applied remote record")
	}
}

func testClosed(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "t", "k", `1`)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// A hung call fails on this deadline instead of blocking the suite.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ops := map[string]func() error{
		"put": func() error {
			_, err := s.Put(ctx, "t", "k", []byte(`2`))
			return err
		},
		"delete": func() error {
			_, err := s.Delete(ctx, "t", "k")
			return err
		},
		"apply": func() error {
			_, err := s.Apply(ctx, []crdt.Record{remote("t", "r", `1`, stamp(0), "p", 1)})
			return err
		},
		"join": func() error { return s.Join(ctx, crdt.Vector{"p": 1}) },
		"get": func() error {
			_, err := s.Get("t", "k")
			return err
		},
		"list": func() error {
			_, _, err := s.List("t", "", "", 10)
			return err
		},
		"changes": func() error {
			_, _, err := s.Changes(0, "", 10)
			return err
		},
		"snapshot vector": func() error {
			sn := s.Snapshot()
			defer sn.Close()
			_, err := sn.Vector()
			return err
		},
		"snapshot above": func() error {
			sn := s.Snapshot()
			defer sn.Close()
			return sn.Above(nil, func(crdt.Record) error { return nil })
		},
	}
	// Repeat each, so that a call that only sometimes slips past the
	// closed check is caught.
	for name, op := range ops {
		for range 50 {
			if err := op(); !errors.Is(err, ErrClosed) {
				t.Fatalf("%s after close: err = %v, want ErrClosed", name, err)
			}
		}
	}
	// The summaries stay readable.
	if st := s.Stats(); st.Live != 1 || s.Vector().Get("self") != 1 {
		t.Fatalf("stats after close = %+v", st)
	}
}

// testCloseWaitsForSnapshot closes the store under an open snapshot: Close
// refuses new work at once but waits for the snapshot, which stays readable.
func testCloseWaitsForSnapshot(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "t", "k", `1`)
	want := allRecords(t, s.Store)
	sn := s.Snapshot()
	defer sn.Close() // should the test fail before it does: Close waits for it
	closeDone := make(chan error, 1)
	go func() { closeDone <- s.Close() }()

	waitFor(t, "close to refuse writes", func() bool {
		_, err := s.Put(context.Background(), "t", "k2", []byte(`2`))
		return errors.Is(err, ErrClosed)
	})
	if _, err := s.Get("t", "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("get while closing: err = %v, want ErrClosed", err)
	}
	if got := above(t, sn, nil); !recordsEqual(got, want) {
		t.Fatalf("snapshot while closing:%s\nwant:%s", describe(got), describe(want))
	}
	select {
	case err := <-closeDone:
		t.Fatalf("Close returned (%v) under an open snapshot", err)
	default:
	}
	sn.Close()
	sn.Close()
	select {
	case err := <-closeDone:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still blocked after the snapshot closed")
	}
	if err := sn.Above(nil, func(crdt.Record) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("above on a closed snapshot: err = %v, want ErrClosed", err)
	}
}

// testCloseUnderLoad closes the store while readers, writers and snapshots
// run: each call succeeds or returns ErrClosed, and none hangs or panics.
func testCloseUnderLoad(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "t", "k", `1`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ops := []func() error{
		func() error {
			_, err := s.Put(ctx, "t", "k", []byte(`2`))
			return err
		},
		func() error {
			_, err := s.Get("t", "k")
			return err
		},
		func() error {
			_, _, err := s.List("t", "", "", 10)
			return err
		},
		func() error {
			_, _, err := s.Changes(0, "", 10)
			return err
		},
		func() error {
			sn := s.Snapshot()
			defer sn.Close()
			return sn.Above(nil, func(crdt.Record) error { return nil })
		},
	}
	started := make(chan struct{}, len(ops))
	errs := make(chan error, len(ops))
	for _, op := range ops {
		go func() {
			started <- struct{}{}
			for range 100000 {
				if err := op(); err != nil {
					if !errors.Is(err, ErrClosed) {
						errs <- err
						return
					}
					break
				}
			}
			errs <- nil
		}()
	}
	for range ops {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for range ops {
		if err := <-errs; err != nil {
			t.Errorf("during close: %v", err)
		}
	}
}

// TestOpenTwiceIsRefused: a second process (here: a second Open) on the same
// directory gets a clear error, not Badger's lock message.
func TestOpenTwiceIsRefused(t *testing.T) {
	dir := t.TempDir()
	first := mustOpen(t, Options{Dir: dir, Origin: "a"})
	defer first.Close()
	if _, err := Open(Options{Dir: dir, Origin: "a"}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}
