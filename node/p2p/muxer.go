package p2p

import "github.com/libp2p/go-libp2p/p2p/muxer/yamux"

// StreamWindow is the receive window each yamux stream opens with: how much
// a peer may send on one stream before the receiver reports what it has
// read. Yamux starts at 256 KiB and doubles a window only when updates come
// back within four round trips; on a LAN or loopback the round trip is tens
// of microseconds, while a busy receiver reads a batch in milliseconds, so
// the window never grew. A gossip stream then carried about 2.5 MB/s, a
// burst of writes queued in the sender's GossipSub queues, and anti-entropy
// had to deliver what gossip could not: with 50 devices behind a relay,
// more than half the records. The cost is memory: a stream the receiver
// accepted but is not reading can hold this much, of which yamux counts
// only its own 256 KiB against the resource manager.
const StreamWindow = 2 << 20

// muxer is libp2p's yamux transport with StreamWindow.
func muxer() *yamux.Transport {
	t := *yamux.DefaultTransport
	t.InitialStreamWindowSize = StreamWindow
	return &t
}
