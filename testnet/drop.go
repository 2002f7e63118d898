package testnet

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// dropper loses gossip at random, on the receiving side. A dropped message
// is ignored rather than rejected, so GossipSub neither delivers nor
// forwards it but does not penalise the peer that sent it: the loss looks
// like a flaky network, and anti-entropy must repair it.
type dropper struct {
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64

	dropped atomic.Uint64
}

func newDropper(seed int64, rate float64) *dropper {
	return &dropper{rng: rand.New(rand.NewPCG(uint64(seed), 0x64726f70)), rate: rate}
}

func (d *dropper) setRate(rate float64) {
	d.mu.Lock()
	d.rate = rate
	d.mu.Unlock()
}

func (d *dropper) currentRate() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rate
}

func (d *dropper) drop() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rate > 0 && d.rng.Float64() < d.rate
}

// validator returns the GossipSub validator for the node self. Its own
// publications pass: dropping them would fail the publish, not lose it in
// transit.
func (d *dropper) validator(self peer.ID) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, _ *pubsub.Message) pubsub.ValidationResult {
		if from == self || !d.drop() {
			return pubsub.ValidationAccept
		}
		d.dropped.Add(1)
		return pubsub.ValidationIgnore
	}
}
