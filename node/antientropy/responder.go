package antientropy

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// handle serves one inbound session.
func (s *Service) handle(str network.Stream) {
	p := str.Conn().RemotePeer()
	c := newConn(str, s.cfg.IdleTimeout)
	if !s.cfg.Admit(p) {
		_ = c.write(frameError, appendError(nil, codeRefused, "not admitted: pair with this relay first"))
		_ = str.Close()
		return
	}
	if !s.admit(p) {
		// Best effort: the initiator learns to retry later.
		_ = c.write(frameError, appendError(nil, codeBusy, "too many anti-entropy sessions"))
		_ = str.Close()
		return
	}
	defer s.release(p)
	stop := context.AfterFunc(s.ctx, func() { str.Reset() })
	defer stop()

	n, err := s.serve(p, c)
	switch {
	case errors.Is(err, errSend):
		s.log.Debug("anti-entropy session failed", "peer", p, "sent", n, "err", err)
		_ = str.Reset()
		return
	case err != nil:
		// An error frame may be on its way: close gracefully to deliver it.
		s.log.Debug("anti-entropy session failed", "peer", p, "sent", n, "err", err)
	default:
		s.log.Debug("anti-entropy session served", "peer", p, "sent", n, "bytes", c.out)
	}
	_ = str.Close()
}

// serve reads the initiator's request and streams every record above its
// vector and not held from one snapshot, then the snapshot's records for
// any keys it asked to refill, then the snapshot's vector. It returns the
// records sent.
func (s *Service) serve(p peer.ID, c *conn) (int, error) {
	req, err := s.readRequest(p, c)
	if err != nil {
		if errors.Is(err, crdt.ErrCorrupt) {
			_ = c.write(frameError, appendError(nil, codeBadRequest, err.Error()))
		}
		return 0, err
	}

	sn := s.cfg.Store.Snapshot()
	defer sn.Close()
	vec, err := sn.Vector()
	var done []byte
	if err == nil {
		done, err = encodeVector(vec)
	}
	if err != nil {
		_ = c.write(frameError, appendError(nil, codeInternal, "vector unavailable"))
		return 0, fmt.Errorf("antientropy serve: %w", err)
	}
	b := s.batcher(c, frameBatch)
	send := func(r crdt.Record) error {
		if req.held.Has(r.Version.Origin, r.Version.Seq) {
			return nil
		}
		return b.add(r)
	}
	if err := sn.Above(req.have, send); err != nil {
		if !errors.Is(err, errSend) {
			_ = c.write(frameError, appendError(nil, codeInternal, "snapshot read failed"))
		}
		return b.sent, fmt.Errorf("antientropy serve: %w", err)
	}
	if err := b.flush(); err != nil {
		return b.sent, fmt.Errorf("antientropy serve: %w", err)
	}
	sent := b.sent
	if len(req.holes) > 0 {
		n, err := s.serveRefill(c, sn, req.holes)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	if err := c.write(frameDone, done); err != nil {
		return sent, fmt.Errorf("antientropy serve: %w: %w", errSend, err)
	}
	return sent, nil
}

// serveRefill sends the snapshot's current record for each of keys it
// holds, then names those it holds nothing for; it says nothing of keys
// that are holes here too. It returns the records sent.
func (s *Service) serveRefill(c *conn, sn *store.Snapshot, keys []store.Key) (int, error) {
	b := s.batcher(c, frameRefill)
	var absent []store.Key
	for _, k := range keys {
		rec, err := sn.Get(k.NS, k.Key)
		if errors.Is(err, store.ErrNotFound) {
			var hole bool
			if hole, err = sn.IsHole(k.NS, k.Key); err == nil && !hole {
				absent = append(absent, k)
			}
			if err == nil {
				continue
			}
		}
		if err != nil {
			_ = c.write(frameError, appendError(nil, codeInternal, "snapshot read failed"))
			return b.sent, fmt.Errorf("antientropy serve refill: %w", err)
		}
		if err := b.add(rec); err != nil {
			return b.sent, fmt.Errorf("antientropy serve refill: %w", err)
		}
	}
	if err := b.flush(); err != nil {
		return b.sent, fmt.Errorf("antientropy serve refill: %w", err)
	}
	if len(absent) > 0 {
		if err := c.write(frameAbsent, appendKeys(nil, absent)); err != nil {
			return b.sent, fmt.Errorf("antientropy serve refill: %w: %w", errSend, err)
		}
	}
	return b.sent, nil
}

func (s *Service) batcher(c *conn, t frameType) *batcher {
	return &batcher{c: c, t: t, maxRecords: s.cfg.MaxBatchRecords, maxBytes: s.cfg.MaxBatchBytes}
}

// request is what an initiator asks for.
type request struct {
	have  crdt.Vector
	held  crdt.Held   // writes it holds above have
	holes []store.Key // keys to refill
}

// readRequest reads the initiator's vector and, if it sent them, its held
// runs and the keys it wants refilled, reporting a malformed request.
func (s *Service) readRequest(p peer.ID, c *conn) (request, error) {
	var req request
	t, payload, err := c.read()
	if errors.Is(err, io.EOF) {
		err = corrupt("stream ended before vector")
	}
	if err == nil && t != frameVector {
		err = corrupt("unexpected %s frame", t)
	}
	if err == nil {
		req.have, err = decodeVector(payload)
	}
	// The initiator closes its side after the request, so the optional
	// frames follow, each at most once, until the end.
	for seen := map[frameType]bool{}; err == nil; {
		t, payload, err = c.read()
		switch {
		case errors.Is(err, io.EOF):
			return req, nil
		case err != nil:
		case seen[t]:
			err = corrupt("repeated %s frame", t)
		case t == frameHeld:
			req.held, err = decodeHeld(payload)
		case t == frameHoles:
			req.holes, err = decodeKeys(payload)
		default:
			err = corrupt("unexpected %s frame", t)
		}
		seen[t] = true
	}
	return request{}, s.peerError(p, "request", err)
}

// errSend marks a failure to write to the initiator, after which no error
// frame can be sent either.
var errSend = errors.New("send")

// batcher encodes records into batch frames of bounded size, reusing one
// buffer for every frame.
type batcher struct {
	c          *conn
	t          frameType // frameBatch or frameRefill
	maxRecords int
	maxBytes   int

	body  []byte
	count []byte
	n     int
	sent  int
}

func (b *batcher) add(r crdt.Record) error {
	if b.n > 0 && (b.n >= b.maxRecords || len(b.body)+crdt.EncodedSize(r) > b.maxBytes) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.body = crdt.AppendRecord(b.body, r)
	b.n++
	return nil
}

func (b *batcher) flush() error {
	if b.n == 0 {
		return nil
	}
	b.count = appendBatchCount(b.count[:0], b.n)
	if err := b.c.write(b.t, b.count, b.body); err != nil {
		return fmt.Errorf("%w: %w", errSend, err)
	}
	b.sent += b.n
	b.body, b.n = b.body[:0], 0
	return nil
}
