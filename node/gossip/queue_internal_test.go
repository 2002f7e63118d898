package gossip

import (
	"fmt"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func queueRecord(i, valueBytes int) crdt.Record {
	v := make([]byte, valueBytes)
	for j := range v {
		v[j] = '1'
	}
	return crdt.Record{NS: "tasks", Key: fmt.Sprintf("k%d", i), Value: v,
		Version: crdt.Version{HLC: 1, Origin: "o", Seq: uint64(i + 1)}}
}

func TestQueueRefusesBeyondLimit(t *testing.T) {
	q := newQueue(3)
	if refused := q.push([]crdt.Record{queueRecord(0, 1), queueRecord(1, 1)}); refused != 0 {
		t.Fatalf("refused %d of 2 with room for 3", refused)
	}
	if refused := q.push([]crdt.Record{queueRecord(2, 1), queueRecord(3, 1), queueRecord(4, 1)}); refused != 2 {
		t.Fatalf("refused %d, want 2", refused)
	}
	got := q.take(1<<20, 100)
	if len(got) != 3 || got[0].Key != "k0" || got[2].Key != "k2" {
		t.Fatalf("took %d records, want k0..k2 in order", len(got))
	}
	if q.len() != 0 || q.take(1<<20, 100) != nil {
		t.Fatal("queue not empty after taking everything")
	}
}

func TestQueueTakePacksWithinBytes(t *testing.T) {
	q := newQueue(100)
	for i := range 10 {
		q.push([]crdt.Record{queueRecord(i, 100)})
	}
	per := crdt.EncodedSize(queueRecord(0, 100))
	maxBytes := batchHeaderSize(4) + 4*per
	batch := q.take(maxBytes, 100)
	if len(batch) != 4 {
		t.Fatalf("took %d records within %d bytes, want 4", len(batch), maxBytes)
	}
	if n := len(EncodeBatch(batch)); n > maxBytes {
		t.Fatalf("batch encodes to %d bytes, over %d", n, maxBytes)
	}
	if batch := q.take(1<<20, 2); len(batch) != 2 || batch[0].Key != "k4" {
		t.Fatalf("maxRecords not honoured or order lost: %d records", len(batch))
	}
}

func TestQueueTakesOversizedRecordAlone(t *testing.T) {
	q := newQueue(10)
	q.push([]crdt.Record{queueRecord(0, 1000), queueRecord(1, 1)})
	if batch := q.take(100, 10); len(batch) != 1 || batch[0].Key != "k0" {
		t.Fatalf("took %d records, want the large one alone", len(batch))
	}
	if batch := q.take(100, 10); len(batch) != 1 || batch[0].Key != "k1" {
		t.Fatalf("took %d records, want the small one", len(batch))
	}
}

func TestQueueSignalsReady(t *testing.T) {
	q := newQueue(10)
	select {
	case <-q.ready:
		t.Fatal("empty queue signalled ready")
	default:
	}
	q.push([]crdt.Record{queueRecord(0, 1)})
	q.push([]crdt.Record{queueRecord(1, 1)})
	select {
	case <-q.ready:
	default:
		t.Fatal("push did not signal ready")
	}
}

func TestQueueRefusesAfterClose(t *testing.T) {
	q := newQueue(10)
	q.push([]crdt.Record{queueRecord(0, 1), queueRecord(1, 1)})
	if n := q.close(); n != 2 {
		t.Fatalf("close reported %d queued, want 2", n)
	}
	if refused := q.push([]crdt.Record{queueRecord(2, 1)}); refused != 1 {
		t.Fatalf("push after close refused %d, want 1", refused)
	}
	if q.len() != 0 {
		t.Fatal("closed queue holds records")
	}
}
