package gossip

import (
	"context"
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

func inboundFrom(from peer.ID, size int, keys ...int) inbound {
	m := inbound{from: from, size: size}
	for _, k := range keys {
		m.recs = append(m.recs, queueRecord(k, 1))
	}
	return m
}

func keysOf(recs []crdt.Record) []string {
	var ks []string
	for _, r := range recs {
		ks = append(ks, r.Key)
	}
	return ks
}

// TestInboxTakesEverySendersMessages: what waits is merged in one go,
// whoever sent it, in order, and each record's sender is still known.
func TestInboxTakesEverySendersMessages(t *testing.T) {
	ctx := context.Background()
	b := newInbox(1 << 20)
	b.put(ctx, inboundFrom("a", 10, 0, 1))
	b.put(ctx, inboundFrom("b", 10, 2))
	b.put(ctx, inboundFrom("a", 10, 3))

	msgs := b.take(1 << 20)
	recs := records(msgs)
	if got := fmt.Sprint(keysOf(recs)); got != "[k0 k1 k2 k3]" {
		t.Fatalf("took %s", got)
	}
	for i, want := range []peer.ID{"a", "a", "b", "a"} {
		if got := sender(msgs, recs[i]); got != want {
			t.Errorf("record %d sent by %s, want %s", i, got, want)
		}
	}
	if msgs := b.take(1 << 20); msgs != nil {
		t.Fatalf("empty inbox returned %d messages", len(msgs))
	}
}

func TestInboxTakeHonoursMaxBytes(t *testing.T) {
	ctx := context.Background()
	b := newInbox(1 << 20)
	for i := range 4 {
		b.put(ctx, inboundFrom("a", 100, i))
	}
	if msgs := b.take(250); len(msgs) != 2 {
		t.Fatalf("took %d messages within 250 bytes, want 2", len(msgs))
	}
	b.take(250)
	// A message larger than maxBytes still comes out, alone.
	b.put(ctx, inboundFrom("b", 1000, 9))
	b.put(ctx, inboundFrom("b", 1, 10))
	if recs := records(b.take(10)); len(recs) != 1 || recs[0].Key != "k9" {
		t.Fatalf("oversized message: took %v", keysOf(recs))
	}
}

func TestInboxPutWaitsWhileFull(t *testing.T) {
	b := newInbox(100)
	if !b.put(context.Background(), inboundFrom("a", 100, 0)) {
		t.Fatal("put into an empty inbox failed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if b.put(ctx, inboundFrom("a", 1, 1)) {
		t.Fatal("put into a full inbox did not wait")
	}
	done := make(chan bool)
	go func() { done <- b.put(context.Background(), inboundFrom("a", 1, 2)) }()
	b.take(1 << 20)
	if !<-done {
		t.Fatal("put did not resume once take freed room")
	}
	if recs := records(b.take(1 << 20)); len(recs) != 1 || recs[0].Key != "k2" {
		t.Fatalf("took %v after the wait, want [k2]", keysOf(recs))
	}
}
