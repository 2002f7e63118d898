package p2p

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestStreamWindow checks that a peer can send a batch of several times
// yamux's default 256 KiB window on one stream before the receiver reads
// any of it, as gossip and anti-entropy do when a burst meets a busy
// receiver, and that the batch arrives whole.
func TestStreamWindow(t *testing.T) {
	const sinkProto = "/syncnode/test/sink/1"
	ctx := testCtx(t)
	a := mustNew(t, Config{PrivKey: key(t, 1), PSK: psk(7)})
	b := mustNew(t, Config{PrivKey: key(t, 2), PSK: psk(7)})
	release := make(chan struct{})
	got := make(chan []byte, 1)
	b.SetStreamHandler(sinkProto, func(s network.Stream) {
		defer s.Close()
		<-release
		data, _ := io.ReadAll(s)
		got <- data
	})
	if err := connect(ctx, a, b); err != nil {
		t.Fatalf("connect: %v", err)
	}
	s, err := a.NewStream(ctx, b.ID(), sinkProto)
	if err != nil {
		t.Fatalf("new stream: %v", err)
	}
	defer s.Close()

	batch := bytes.Repeat([]byte("0123456789abcdef"), StreamWindow/2/16)
	if err := s.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(batch); err != nil {
		t.Fatalf("writing %d bytes the receiver has not read yet: %v", len(batch), err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	close(release)
	select {
	case data := <-got:
		if !bytes.Equal(data, batch) {
			t.Fatalf("received %d bytes, want the %d sent", len(data), len(batch))
		}
	case <-ctx.Done():
		t.Fatal("receiver never got the batch")
	}
}
