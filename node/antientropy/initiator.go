package antientropy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// pull runs one initiator session with p. Frames are read ahead of the
// store, a bounded number of them, and the batches that have arrived are
// merged together (see readAheadFrames), so memory stays flat and the
// stream's flow control holds the responder back while the store commits.
//
// A pull names the replica's holes for the responder to refill; a
// responder from before refills existed refuses that as a bad request, and
// is then asked again without them.
func (s *Service) pull(ctx context.Context, p peer.ID) (Result, error) {
	res, err := s.session(ctx, p, true)
	var rerr *RemoteError
	if errors.As(err, &rerr) && rerr.Code == codeBadRequest && res.HolesAsked > 0 {
		return s.session(ctx, p, false)
	}
	return res, err
}

// session runs one initiator session with p, naming the replica's holes if
// askHoles is set.
func (s *Service) session(ctx context.Context, p peer.ID, askHoles bool) (res Result, err error) {
	start := time.Now()
	str, err := s.host.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return res, fmt.Errorf("antientropy open stream: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { str.Reset() })
	c := newConn(str, s.cfg.IdleTimeout)
	defer func() {
		stop()
		if err != nil {
			str.Reset()
		} else {
			str.Close()
		}
		res.BytesReceived, res.BytesSent = c.in, c.out
		res.Duration = time.Since(start)
		if ctx.Err() != nil && err != nil {
			err = fmt.Errorf("antientropy pull: %w", ctx.Err())
		}
	}()

	haveVec, held := s.cfg.Store.Vector(), s.cfg.Store.Held()
	var holes []store.Hole
	if askHoles {
		holes = s.cfg.Store.Holes()
	}
	have, err := encodeVector(haveVec)
	if err != nil {
		return res, fmt.Errorf("antientropy pull: %w", err)
	}
	if err := c.write(frameVector, have); err != nil {
		return res, fmt.Errorf("antientropy send vector: %w", err)
	}
	if len(held) > 0 {
		if err := c.write(frameHeld, appendHeld(nil, held)); err != nil {
			return res, fmt.Errorf("antientropy send held: %w", err)
		}
	}
	if len(holes) > 0 {
		if err := c.write(frameHoles, appendKeys(nil, holeKeys(holes))); err != nil {
			return res, fmt.Errorf("antientropy send holes: %w", err)
		}
		res.HolesAsked = len(holes)
	}
	if err := str.CloseWrite(); err != nil {
		return res, fmt.Errorf("antientropy send vector: %w", err)
	}

	readCtx, stopReading := context.WithCancel(ctx)
	frames, release, readerDone := readAheadFrames(readCtx, c)
	defer func() {
		// The reader must be done before c's byte counts are read. It
		// stops by itself after the last frame; otherwise it may be
		// blocked reading, which only a reset ends.
		stopReading()
		if err != nil {
			str.Reset()
		}
		readerDone()
	}()
	in := batches{frames: frames}
	rejected := map[crdt.NodeID]struct{}{}
	ans := newAnswer(holes)
	// The responder sends batches, then refills, then at most one absent
	// frame, then done: phase is how far it has gone.
	phase := frameBatch
	for {
		f, ok := in.next(ctx)
		if !ok {
			return res, fmt.Errorf("antientropy pull: %w", context.Cause(ctx))
		}
		err := f.err
		if errors.Is(err, io.EOF) {
			err = corrupt("stream ended before done")
		}
		if err != nil {
			return res, s.peerError(p, "read", err)
		}
		if err := inOrder(&phase, f.t); err != nil {
			return res, s.peerError(p, "read", err)
		}
		switch f.t {
		case frameBatch:
			res.Batches += f.frames
			err := s.apply(ctx, p, f.recs, &res, rejected)
			release(f.size)
			if err != nil {
				return res, err
			}
		case frameRefill:
			ans.records(f.recs)
			release(f.size)
		case frameAbsent:
			keys, err := decodeKeys(f.payload)
			release(f.size)
			if err != nil {
				return res, s.peerError(p, "absent", err)
			}
			ans.absentKeys(keys)
		case frameDone:
			v, err := decodeVector(f.payload)
			if err != nil {
				return res, s.peerError(p, "done", err)
			}
			res.PeerVector = v
			if err := s.join(ctx, v, rejected, &res); err != nil {
				return res, err
			}
			if len(holes) == 0 || !covers(v, haveVec, held, holes) {
				// A peer that has not seen all we had cannot say what a
				// hole should hold: a later pull asks again.
				return res, nil
			}
			return res, s.refill(ctx, p, ans, &res)
		case frameError:
			rerr, err := decodeError(f.payload)
			if err != nil {
				return res, s.peerError(p, "error frame", err)
			}
			return res, fmt.Errorf("antientropy pull: %w", rerr)
		default:
			return res, s.peerError(p, "read", corrupt("unexpected %s frame", f.t))
		}
	}
}

// apply merges batches, reporting each rejected record and remembering its
// origin.
func (s *Service) apply(ctx context.Context, p peer.ID, recs []crdt.Record, res *Result, rejected map[crdt.NodeID]struct{}) error {
	ar, err := s.cfg.Store.Apply(ctx, recs)
	if err != nil {
		return fmt.Errorf("antientropy apply: %w", err)
	}
	res.RecordsReceived += len(recs)
	res.RecordsApplied += len(ar.Applied)
	s.stats.batch(len(recs), len(ar.Applied))
	if len(ar.Applied) > 0 {
		s.cfg.OnApplied(p, ar.Applied)
	}
	res.RecordsRejected += len(ar.Rejected)
	for _, rj := range ar.Rejected {
		rejected[rj.Record.Version.Origin] = struct{}{}
		s.cfg.OnReject(p, fmt.Errorf("antientropy record %s/%s %v: %w", rj.Record.NS, rj.Record.Key, rj.Record.Version, rj.Err))
	}
	return nil
}

// inOrder checks that a frame of type t may follow the frames of *phase,
// and moves *phase on.
func inOrder(phase *frameType, t frameType) error {
	r, ordered := answerRank(t)
	if !ordered {
		return nil // done, error, or unexpected: handled where read
	}
	switch p, _ := answerRank(*phase); {
	case r < p, r == p && t == frameAbsent:
		return corrupt("%s frame after %s", t, *phase)
	}
	*phase = t
	return nil
}

// answerRank places the frames of a responder's answer in their order.
func answerRank(t frameType) (int, bool) {
	switch t {
	case frameBatch:
		return 0, true
	case frameRefill:
		return 1, true
	case frameAbsent:
		return 2, true
	}
	return 0, false
}

// join adopts the responder's vector except for origins with a rejected
// record: joining those would claim writes this replica never stored.
func (s *Service) join(ctx context.Context, v crdt.Vector, rejected map[crdt.NodeID]struct{}, res *Result) error {
	joinable := v
	if len(rejected) > 0 {
		joinable = v.Clone()
		for id := range rejected {
			delete(joinable, id)
			res.Skipped = append(res.Skipped, id)
		}
		slices.Sort(res.Skipped)
	}
	if s.cfg.Store.Vector().Dominates(joinable) {
		// Already covered, as in every round between replicas in sync:
		// skip the trip through the store's commit loop.
		return nil
	}
	if err := s.cfg.Store.Join(ctx, joinable); err != nil {
		return fmt.Errorf("antientropy join: %w", err)
	}
	return nil
}

// peerError wraps err from a session with p and reports it to OnReject when
// the peer sent something malformed rather than the transport failing.
func (s *Service) peerError(p peer.ID, op string, err error) error {
	err = fmt.Errorf("antientropy %s: %w", op, err)
	if errors.Is(err, crdt.ErrCorrupt) {
		s.cfg.OnReject(p, err)
	}
	return err
}
