package gossip

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// Pubsub's buffers, in messages: per peer on the way out, ahead of
// validation, and on our subscription. A message that finds one full is
// dropped, which costs an anti-entropy pull. The pacer keeps one sender's
// bursts well within them, but a relay forwards every device's writes to
// every device, and a busy device validates slowly: hence room for
// thousands. The inbox drains the subscription into a larger, byte-bounded
// buffer.
const (
	outboundQueueLen   = 1024
	validateQueueLen   = 2048
	subscriptionBuffer = 256
)

// Gossip publishes committed local writes on the group's topic and merges
// the validated writes of peers into the store. Its methods are safe for
// concurrent use.
type Gossip struct {
	cfg   Config
	self  peer.ID
	log   *slog.Logger
	topic *pubsub.Topic
	sub   *pubsub.Subscription
	joins *pubsub.TopicEventHandler
	queue *queue
	inbox *inbox
	stats counters

	// psCtx bounds pubsub itself; ctx, its child, bounds this package's
	// loops, so Close can stop them before leaving the topic.
	psCtx    context.Context
	psCancel context.CancelFunc
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// New starts GossipSub on h with strict signing and peer scoring, joins
// cfg.Topic with a validator, and starts publishing and receiving. It runs
// until Close or until ctx ends.
func New(ctx context.Context, h host.Host, cfg Config) (*Gossip, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Gossip{
		cfg:   cfg,
		self:  h.ID(),
		log:   cfg.Logger.With("component", "gossip"),
		queue: newQueue(cfg.QueueLen),
		inbox: newInbox(inboxBytes),
	}
	g.psCtx, g.psCancel = context.WithCancel(ctx)
	g.ctx, g.cancel = context.WithCancel(g.psCtx)
	if err := g.start(h); err != nil {
		g.cancel()
		g.psCancel()
		return nil, err
	}
	g.wg.Add(4)
	go g.publishLoop()
	go g.readLoop()
	go g.applyLoop()
	go g.watchJoins()
	return g, nil
}

func (g *Gossip) start(h host.Host) error {
	params, thresholds := scoreParams(g.cfg.Topic, g.cfg.ScoreWhitelist, g.cfg.Relay)
	opts := append([]pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMaxMessageSize(max(MaxRPCBytes, 2*g.cfg.MaxMessageBytes)),
		pubsub.WithPeerScore(params, thresholds),
		// Send our own writes straight to every subscribed peer (above
		// PublishThreshold), not only to mesh peers: a group is small, so
		// this costs little, reaches everyone in one hop, and does not
		// wait for the mesh to form after a connection.
		pubsub.WithFloodPublish(true),
		pubsub.WithValidateQueueSize(validateQueueLen),
		pubsub.WithPeerOutboundQueueSize(outboundQueueLen),
		pubsub.WithLogger(g.cfg.Logger.With("component", "pubsub")),
	}, g.cfg.Options...)
	if g.cfg.Hub {
		opts = append(opts, pubsub.WithGossipSubParams(hubParams()), pubsub.WithPeerOutboundQueueSize(hubOutboundQueueLen))
	} else {
		opts = append(opts, pubsub.WithGossipSubParams(deviceParams()))
	}
	ps, err := pubsub.NewGossipSub(g.psCtx, h, opts...)
	if err != nil {
		return fmt.Errorf("gossip start: %w", err)
	}
	// The validator is CPU-bound and quick, so it runs inline on pubsub's
	// validation workers (one per CPU) rather than in a goroutine per
	// message.
	if err := ps.RegisterTopicValidator(g.cfg.Topic, g.validate, pubsub.WithValidatorInline(true)); err != nil {
		return fmt.Errorf("gossip start: %w", err)
	}
	if g.topic, err = ps.Join(g.cfg.Topic); err != nil {
		return fmt.Errorf("gossip join: %w", err)
	}
	if g.joins, err = g.topic.EventHandler(); err != nil {
		return fmt.Errorf("gossip join events: %w", err)
	}
	if g.sub, err = g.topic.Subscribe(pubsub.WithBufferSize(subscriptionBuffer)); err != nil {
		return fmt.Errorf("gossip subscribe: %w", err)
	}
	return nil
}

// Publish queues committed records for the next message and returns at
// once; it never waits for the network. Records that find the queue full,
// or the Gossip closed, are dropped and counted in Stats.Dropped: gossip is
// best effort, and anti-entropy delivers whatever it drops. Pass only
// records the store has committed: peers reject, and penalise us for,
// anything invalid.
func (g *Gossip) Publish(recs ...crdt.Record) {
	if refused := g.queue.push(recs); refused > 0 {
		g.stats.dropped.Add(uint64(refused))
	}
}

// publishLoop drains the queue, packing as many records as fit in
// MaxBatchBytes into each message. The pacer bounds the message rate, so
// writes that arrive while one message waits its turn ride in it: batches
// grow with load, and a lone write goes out at once.
func (g *Gossip) publishLoop() {
	defer g.wg.Done()
	pace := &pacer{interval: paceInterval, burst: paceBurst}
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.queue.ready:
		}
		// The token may be stale: an earlier drain can have taken the
		// records that set it.
		for g.queue.len() > 0 {
			if !g.sleep(pace.reserve(time.Now())) {
				return
			}
			g.publish(g.queue.take(g.cfg.MaxBatchBytes, MaxBatchRecords))
		}
	}
}

// sleep waits for d, or until Close; it reports whether to carry on.
func (g *Gossip) sleep(d time.Duration) bool {
	if d <= 0 {
		return g.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.ctx.Done():
		return false
	}
}

// publish sends one batch. An empty one, left when Close emptied the
// queue under the loop, is not sent: peers would reject it.
func (g *Gossip) publish(batch []crdt.Record) {
	if len(batch) == 0 {
		return
	}
	data := EncodeBatch(batch)
	if len(data) > g.cfg.MaxMessageBytes {
		g.stats.dropped.Add(uint64(len(batch)))
		g.log.Warn("record too large to gossip", "bytes", len(data), "max", g.cfg.MaxMessageBytes)
		return
	}
	if err := g.topic.Publish(g.ctx, data); err != nil {
		g.stats.dropped.Add(uint64(len(batch)))
		if g.ctx.Err() == nil {
			g.log.Warn("publish failed", "records", len(batch), "err", err)
		}
		return
	}
	g.stats.publishedMessages.Add(1)
	g.stats.publishedRecords.Add(uint64(len(batch)))
	g.stats.publishedBytes.Add(uint64(len(data)))
}

// Peers returns the connected peers subscribed to the topic.
func (g *Gossip) Peers() []peer.ID { return g.topic.ListPeers() }

// Stats returns the traffic counters.
func (g *Gossip) Stats() Stats { return g.stats.snapshot() }

// Close stops publishing and receiving, drops whatever is still queued,
// leaves the topic and stops GossipSub. It is safe to call more than once.
func (g *Gossip) Close() error {
	g.closeOnce.Do(func() {
		g.stats.dropped.Add(uint64(g.queue.close()))
		g.cancel()
		g.wg.Wait()
		if g.psCtx.Err() == nil {
			// Leave explicitly, so peers drop us from their mesh now
			// rather than when the connection goes.
			g.sub.Cancel()
			g.joins.Cancel()
			if err := g.topic.Close(); err != nil {
				g.closeErr = fmt.Errorf("gossip close: %w", err)
			}
		}
		g.psCancel()
	})
	return g.closeErr
}
