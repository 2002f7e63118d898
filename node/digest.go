package node

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// digestProtocol lets a peer ask for our state digest, so status can say
// whether the two replicas hold exactly the same records.
const digestProtocol = "/syncnode/digest/1.0.0"

const digestTimeout = 2 * time.Second

func serveDigest(h host.Host, digest func() crdt.Digest) {
	h.SetStreamHandler(digestProtocol, func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(digestTimeout))
		_, _ = s.Write(digest().Bytes())
	})
}

// fetchDigest asks p for its state digest.
func fetchDigest(ctx context.Context, h host.Host, p peer.ID) (crdt.Digest, error) {
	ctx, cancel := context.WithTimeout(ctx, digestTimeout)
	defer cancel()
	s, err := h.NewStream(network.WithNoDial(ctx, "digest of connected peer"), p, digestProtocol)
	if err != nil {
		return crdt.Digest{}, fmt.Errorf("digest stream: %w", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(digestTimeout))
	buf := make([]byte, 32)
	if _, err := io.ReadFull(s, buf); err != nil {
		_ = s.Reset()
		return crdt.Digest{}, fmt.Errorf("digest read: %w", err)
	}
	d, _ := crdt.DigestFromBytes(buf)
	return d, nil
}
