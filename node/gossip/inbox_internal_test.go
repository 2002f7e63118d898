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

func TestInboxTakesOneSendersRun(t *testing.T) {
	ctx := context.Background()
	b := newInbox(1 << 20)
	b.put(ctx, inboundFrom("a", 10, 0, 1))
	b.put(ctx, inboundFrom("a", 10, 2))
	b.put(ctx, inboundFrom("b", 10, 3))
	b.put(ctx, inboundFrom("a", 10, 4))

	for _, want := range []struct {
		from peer.ID
		keys string
	}{{"a", "[k0 k1 k2]"}, {"b", "[k3]"}, {"a", "[k4]"}} {
		from, recs := b.take(1 << 20)
		if got := keysOf(recs); from != want.from || fmt.Sprint(got) != want.keys {
			t.Fatalf("took %s %v, want %s %s", from, got, want.from, want.keys)
		}
	}
	if _, recs := b.take(1 << 20); recs != nil {
		t.Fatalf("empty inbox returned %d records", len(recs))
	}
}

func TestInboxTakeHonoursMaxBytes(t *testing.T) {
	ctx := context.Background()
	b := newInbox(1 << 20)
	for i := range 4 {
		b.put(ctx, inboundFrom("a", 100, i))
	}
	if _, recs := b.take(250); len(recs) != 2 {
		t.Fatalf("took %d messages' records within 250 bytes, want 2", len(recs))
	}
	// A message larger than maxBytes still comes out, alone.
	b.put(ctx, inboundFrom("b", 1000, 9))
	b.take(1 << 20)
	if _, recs := b.take(10); len(recs) != 1 || recs[0].Key != "k9" {
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
	if _, recs := b.take(1 << 20); len(recs) != 1 || recs[0].Key != "k2" {
		t.Fatalf("took %v after the wait, want [k2]", keysOf(recs))
	}
}
