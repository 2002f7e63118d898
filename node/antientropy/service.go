package antientropy

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/syncnode/syncnode/crdt"
)

// ProtocolID names the pull protocol.
const ProtocolID protocol.ID = "/syncnode/antientropy/1.0.0"

// Result describes one pull.
type Result struct {
	// RecordsReceived counts records in the batches received.
	RecordsReceived int
	// RecordsApplied counts received records that changed local state.
	RecordsApplied int
	// RecordsRejected counts received records the store refused.
	RecordsRejected int
	// Batches counts batch frames received.
	Batches int
	// BytesReceived and BytesSent count protocol frames, both ways.
	BytesReceived, BytesSent int64
	// Duration is the session's wall time.
	Duration time.Duration
	// PeerVector is the responder's snapshot vector, as it sent it; nil if
	// the session ended before it arrived.
	PeerVector crdt.Vector
	// Skipped lists the origins of rejected records, in order. They were
	// left out of the join, so a later pull asks for them again.
	Skipped []crdt.NodeID
	// HolesAsked counts the holes the pull asked the responder to refill
	// (see refill.go).
	HolesAsked int
}

// Service serves and initiates anti-entropy sessions on one host. It is safe
// for concurrent use.
type Service struct {
	host host.Host
	cfg  Config
	log  *slog.Logger

	ctx    context.Context // ends at Close, cancelling every session
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	calls   map[peer.ID]*call // outbound sessions in flight
	inbound int               // inbound sessions being served
	serving map[peer.ID]int   // inbound sessions per peer

	stats counters
}

// call is one outbound session, shared by every Sync to the same peer that
// arrives while it runs.
type call struct {
	done    chan struct{}
	res     Result
	err     error
	waiters int
	cancel  context.CancelFunc
}

// New returns a Service over h and registers its stream handler. It panics
// if cfg.Store is nil.
func New(h host.Host, cfg Config) *Service {
	if cfg.Store == nil {
		panic("antientropy: Config.Store is required")
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		host:    h,
		cfg:     cfg,
		log:     cfg.Logger.With("component", "antientropy"),
		ctx:     ctx,
		cancel:  cancel,
		calls:   map[peer.ID]*call{},
		serving: map[peer.ID]int{},
	}
	h.SetStreamHandler(ProtocolID, s.handle)
	return s
}

// Close removes the stream handler, cancels every session in flight and
// waits for them to end. It is safe to call more than once.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.host.RemoveStreamHandler(ProtocolID)
	s.cancel()
	s.wg.Wait()
}

// Sync pulls from p everything p holds above the local vector, merges it and
// joins p's vector. A Sync to a peer that already has one in flight waits for
// that session and returns its result. If ctx ends first, Sync returns
// ctx.Err(); the session itself stops once no caller is waiting for it.
func (s *Service) Sync(ctx context.Context, p peer.ID) (Result, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Result{}, ErrClosed
	}
	c, ok := s.calls[p]
	if !ok {
		sctx, cancel := context.WithCancel(s.ctx)
		c = &call{done: make(chan struct{}), cancel: cancel}
		s.calls[p] = c
		s.wg.Add(1)
		go s.run(sctx, p, c)
	}
	c.waiters++
	s.mu.Unlock()

	select {
	case <-c.done:
		// Callers sharing a session each get their own copy to keep.
		res := c.res
		if res.PeerVector != nil {
			res.PeerVector = res.PeerVector.Clone()
		}
		res.Skipped = slices.Clone(res.Skipped)
		return res, c.err
	case <-ctx.Done():
		s.leave(p, c)
		return Result{}, ctx.Err()
	}
}

// leave drops a waiter that gave up, cancelling the session when it was the
// last one; later Syncs then start afresh.
func (s *Service) leave(p peer.ID, c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.waiters--
	if c.waiters > 0 {
		return
	}
	c.cancel()
	if s.calls[p] == c {
		delete(s.calls, p)
	}
}

func (s *Service) run(ctx context.Context, p peer.ID, c *call) {
	defer s.wg.Done()
	res, err := s.pull(ctx, p)
	if err != nil && s.ctx.Err() != nil {
		err = ErrClosed
	}
	s.stats.session(res, err)
	s.mu.Lock()
	if s.calls[p] == c {
		delete(s.calls, p)
	}
	c.res, c.err = res, err
	s.mu.Unlock()
	c.cancel()
	close(c.done)
}

// maxPerPeer bounds the inbound sessions of one peer. Initiators run one
// session per peer, but the next may arrive before the responder has
// finished closing the last, so one spare keeps back-to-back pulls from
// being refused.
const maxPerPeer = 2

// admit reserves an inbound session for p, reporting false when the service
// is closed or at its limits.
func (s *Service) admit(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.inbound >= s.cfg.MaxInbound || s.serving[p] >= maxPerPeer {
		return false
	}
	s.inbound++
	s.serving[p]++
	s.wg.Add(1)
	return true
}

func (s *Service) release(p peer.ID) {
	s.mu.Lock()
	s.inbound--
	if s.serving[p]--; s.serving[p] == 0 {
		delete(s.serving, p)
	}
	s.mu.Unlock()
	s.wg.Done()
}
