package gossip_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/gossip"
	"github.com/syncnode/syncnode/store"
)

func TestWriteReachesEveryNode(t *testing.T) {
	nodes := startNodes(t, 4)
	rec := nodes[0].put(t, "tasks", "milk", []byte(`{"done":false}`))

	for i, n := range nodes[1:] {
		waitFor(t, fmt.Sprintf("node %d to hold the write", i+1), func() bool {
			got, err := n.store.Get("tasks", "milk")
			return err == nil && got.Version == rec.Version && bytes.Equal(got.Value, rec.Value)
		})
	}
	for i, n := range nodes[1:] {
		waitFor(t, fmt.Sprintf("node %d to count the applied record", i+1), func() bool {
			return n.gossip.Stats().AppliedRecords == 1
		})
	}
	// The publisher counts a message once Publish returns, which may be
	// after peers have merged it.
	waitFor(t, "the publisher to count its message", func() bool {
		return nodes[0].gossip.Stats().PublishedMessages > 0
	})
	st := nodes[0].gossip.Stats()
	if st.PublishedMessages != 1 || st.PublishedRecords != 1 || st.PublishedBytes == 0 {
		t.Errorf("publisher stats = %+v, want one message with one record", st)
	}
	if st.ReceivedMessages != 0 || st.AppliedRecords != 0 {
		t.Errorf("publisher merged its own message: %+v", st)
	}
}

func TestBurstIsBatched(t *testing.T) {
	const writes = 5000
	nodes := startNodes(t, 3)
	w := nodes[0]
	recs := make([]crdt.Record, writes)
	for i := range recs {
		v, err := w.store.Put(context.Background(), "tasks", fmt.Sprintf("k%05d", i), []byte(fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		recs[i] = crdt.Record{NS: "tasks", Key: fmt.Sprintf("k%05d", i), Value: []byte(fmt.Sprintf(`{"n":%d}`, i)), Version: v}
	}
	// The burst: each committed write is published on its own, faster than
	// one message can go out, so the queue fills and batches form.
	for _, r := range recs {
		w.gossip.Publish(r)
	}

	origin := w.store.Origin()
	for i, n := range nodes[1:] {
		waitFor(t, fmt.Sprintf("node %d to hold all %d writes", i+1, writes), func() bool {
			return n.store.Vector().Get(origin) == writes
		})
		if live := n.store.Stats().Live; live != writes {
			t.Errorf("node %d holds %d records, want %d", i+1, live, writes)
		}
	}
	waitFor(t, "the publisher to count its last message", func() bool {
		return w.gossip.Stats().PublishedRecords == writes
	})
	st := w.gossip.Stats()
	if st.Dropped != 0 {
		t.Errorf("dropped %d records", st.Dropped)
	}
	if st.PublishedMessages > writes/10 {
		t.Errorf("%d writes took %d messages; want batches (at most %d messages)", writes, st.PublishedMessages, writes/10)
	}
	t.Logf("%d writes in %d messages", writes, st.PublishedMessages)
}

func TestGapTriggersOnGap(t *testing.T) {
	nodes := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	// Seq 3 of a's origin, with 1 and 2 never sent.
	a.gossip.Publish(record(a.host.ID(), 3, crdt.NewTimestamp(baseMS, 7), "third"))

	waitFor(t, "OnGap for a", func() bool { return b.events.gapsFrom(a.host.ID()) > 0 })
	if _, err := b.store.Get("tasks", "third"); err != nil {
		t.Errorf("record beyond the gap not applied: %v", err)
	}
	if got := b.store.Vector().Get(crdt.NodeID(a.host.ID().String())); got != 0 {
		t.Errorf("vector entry for a = %d, want 0 until the gap fills", got)
	}
}

func TestGapFilledInTimeIsNotReported(t *testing.T) {
	nodes := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	origin := crdt.NodeID(a.host.ID().String())
	// Seq 2 lands first, as when parallel validation reorders two
	// batches, and seq 1 follows at once.
	a.gossip.Publish(record(a.host.ID(), 2, crdt.NewTimestamp(baseMS, 2), "second"))
	waitFor(t, "seq 2 to be held", func() bool { return b.gossip.Stats().AppliedRecords == 1 })
	a.gossip.Publish(record(a.host.ID(), 1, crdt.NewTimestamp(baseMS, 1), "first"))
	waitFor(t, "the gap to fill", func() bool { return b.store.Vector().Get(origin) == 2 })
	// A later gap, left open, is reported: proof that OnGap was armed and
	// is not simply slow.
	a.gossip.Publish(record(a.host.ID(), 4, crdt.NewTimestamp(baseMS, 4), "fourth"))
	waitFor(t, "OnGap for the open gap", func() bool { return b.events.gapsFrom(a.host.ID()) > 0 })
	if n := b.events.gapsFrom(a.host.ID()); n != 1 {
		t.Errorf("OnGap called %d times, want once: only for the gap left open", n)
	}
}

func TestNoGapForContiguousWrites(t *testing.T) {
	nodes := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	for i := range 3 {
		a.put(t, "tasks", fmt.Sprintf("k%d", i), []byte(`1`))
		waitFor(t, fmt.Sprintf("write %d", i+1), func() bool {
			return b.store.Vector().Get(a.store.Origin()) == uint64(i+1)
		})
	}
	// Close b's gossip, which stops its apply loop and any pending gap
	// timer, before looking: nothing can be reported after this.
	if err := b.gossip.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if n := b.events.gapsFrom(a.host.ID()); n != 0 {
		t.Errorf("OnGap called %d times for contiguous writes", n)
	}
}

func TestPublishAfterCloseCountsDropped(t *testing.T) {
	_, hosts := mustNet(t, 1)
	h := hosts[0]
	n := startNode(t, h, nil)
	if err := n.gossip.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	n.gossip.Publish(record(h.ID(), 1, crdt.NewTimestamp(baseMS, 1), "late"), record(h.ID(), 2, crdt.NewTimestamp(baseMS, 2), "later"))
	if st := n.gossip.Stats(); st.Dropped != 2 || st.PublishedMessages != 0 {
		t.Errorf("stats after close = %+v, want 2 dropped and nothing published", st)
	}
}

func TestNewRequiresTopicAndStore(t *testing.T) {
	_, hosts := mustNet(t, 1)
	h := hosts[0]
	st := mustStore(t, "x")
	for name, cfg := range map[string]gossip.Config{
		"no topic": {Store: st},
		"no store": {Topic: testTopic},
	} {
		if _, err := gossip.New(context.Background(), h, cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// closedStore fails every Apply, as a store that was closed under us does.
type closedStore struct{ *store.Store }

func (closedStore) Apply(context.Context, []crdt.Record) (store.ApplyResult, error) {
	return store.ApplyResult{}, store.ErrClosed
}

func TestApplyErrorDoesNotStopReceiving(t *testing.T) {
	mn, hosts := mustNet(t, 2)
	a := startNode(t, hosts[0], nil)
	broken := startNode(t, hosts[1], func(c *gossip.Config) { c.Store = closedStore{c.Store.(*store.Store)} })
	connectAll(t, mn)
	waitFor(t, "topic peers", func() bool { return len(a.gossip.Peers()) == 1 && len(broken.gossip.Peers()) == 1 })

	for i := range 3 {
		a.put(t, "tasks", fmt.Sprintf("k%d", i), []byte(`1`))
		waitFor(t, fmt.Sprintf("message %d received", i+1), func() bool {
			return broken.gossip.Stats().ReceivedMessages == uint64(i+1)
		})
	}
	if st := broken.gossip.Stats(); st.AppliedRecords != 0 {
		t.Errorf("applied %d records through a failing store", st.AppliedRecords)
	}
	if errs := broken.events.rejectsFrom(a.host.ID()); len(errs) != 0 {
		t.Errorf("store failure reported as %d rejections: %v", len(errs), errors.Join(errs...))
	}
}
