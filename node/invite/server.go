package invite

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"golang.org/x/time/rate"

	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/p2p"
	"github.com/syncnode/syncnode/node/ratelimit"
)

const (
	// MaxPending bounds the invites pending at once.
	MaxPending = 32
	// maxRemembered bounds the invites remembered, pending or not: used
	// and expired ones are kept while the invite host runs, to tell a
	// joiner why its code no longer works.
	maxRemembered = 256
	// streamTimeout bounds one exchange on the inviter's side.
	streamTimeout = 10 * time.Second
	// maxInflight bounds the exchanges served at once; more are reset.
	maxInflight = 16
	// maxTrailing bounds what is read after the token while the joiner
	// closes its side.
	maxTrailing = 64
)

// Failed attempts from one source: a burst of failBurst, then one per
// failEvery; beyond that the answer is statusRateLimited, without looking
// at the token.
const (
	failBurst  = 5
	failEvery  = 5 * time.Second
	maxSources = 1024
)

// ServerConfig configures NewServer.
type ServerConfig struct {
	// Secret is what a redeemed invite hands out.
	Secret group.Secret
	// Listen are the TCP multiaddrs the invite host listens on, usually
	// the node's own listen IPs at port 0. Required.
	Listen []ma.Multiaddr
	// Addrs returns the inviting node's own addresses, each ending in
	// /p2p/<id>, which the new device keeps as static peers. It is called
	// at each redeem and must be safe for concurrent use. Required.
	Addrs func() []ma.Multiaddr
	// Now is the clock of expiries and rate limits; nil means time.Now.
	Now func() time.Time
	// Logger receives invite events; nil means slog.Default(). Tokens and
	// the secret are never logged.
	Logger *slog.Logger
}

// Server hands out invites and redeems them. Until every invite it handed
// out has expired, used or not, it runs an invite host: a libp2p host of
// its own, with a fresh identity and no private-network key (a new device
// has none yet), which serves ProtocolID alone. Keeping it up after a code
// is used lets a second try of that code hear "already used" rather than
// find nobody; once the code has expired, the joiner refuses it unread.
// A Server is safe for concurrent use.
type Server struct {
	secret   group.Secret
	listen   []ma.Multiaddr
	addrs    func() []ma.Multiaddr
	now      func() time.Time
	log      *slog.Logger
	failures *ratelimit.Limiter
	inflight chan struct{}

	mu      sync.Mutex
	entries []*entry    // oldest first; emptied with the host
	host    host.Host   // nil while every invite has expired
	timer   *time.Timer // at the earliest expiry to come
	closed  bool
	closing sync.WaitGroup // hosts being closed
}

// entry is one invite handed out.
type entry struct {
	token   Token
	expires time.Time
	used    bool
}

func (e *entry) pending(now time.Time) bool { return !e.used && e.live(now) }

// live reports whether the invite has not expired, used or not.
func (e *entry) live(now time.Time) bool { return now.Before(e.expires) }

// NewServer checks cfg and returns a Server with no invite pending and no
// host running.
func NewServer(cfg ServerConfig) (*Server, error) {
	if len(cfg.Listen) == 0 || cfg.Addrs == nil {
		return nil, errors.New("invite new server: listen addresses and Addrs are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{
		secret:   cfg.Secret,
		listen:   slices.Clone(cfg.Listen),
		addrs:    cfg.Addrs,
		now:      cfg.Now,
		log:      cfg.Logger.With("component", "invite"),
		failures: ratelimit.New(rate.Every(failEvery), failBurst, maxSources, cfg.Now),
		inflight: make(chan struct{}, maxInflight),
	}, nil
}

// Create issues an invite valid for ttl (MinTTL to MaxTTL), starting the
// invite host if none runs, and returns its join code and expiry. It fails
// with ErrTTL, ErrTooManyPending or ErrClosed.
func (s *Server) Create(ttl time.Duration) (code string, expires time.Time, err error) {
	if ttl < MinTTL || ttl > MaxTTL {
		return "", time.Time{}, fmt.Errorf("invite create: ttl %v: %w", ttl, ErrTTL)
	}
	var tok Token
	rand.Read(tok[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", time.Time{}, fmt.Errorf("invite create: %w", ErrClosed)
	}
	now := s.now()
	if s.pendingLocked(now) >= MaxPending {
		return "", time.Time{}, fmt.Errorf("invite create: %w", ErrTooManyPending)
	}
	if s.host == nil {
		if s.host, err = s.startHost(); err != nil {
			return "", time.Time{}, fmt.Errorf("invite create: %w", err)
		}
	}
	// The code carries whole seconds; the inviter honours the same.
	expires = now.Add(ttl).Truncate(time.Second)
	code, err = Encode(Invite{Token: tok, Expires: expires, Peer: s.host.ID(), Addrs: bestFirst(s.host.Addrs())})
	if err != nil {
		s.scheduleLocked(now)
		return "", time.Time{}, fmt.Errorf("invite create: %w", err)
	}
	s.entries = append(s.entries, &entry{token: tok, expires: expires})
	if len(s.entries) > maxRemembered {
		s.forgetLocked(now)
	}
	s.scheduleLocked(now)
	s.log.Info("invite created", "expires", expires, "invite_host", s.host.ID())
	return code, expires, nil
}

// Close stops the invite host, if one runs, and refuses further invites.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.closeHostLocked()
	s.mu.Unlock()
	s.closing.Wait()
	return nil
}

// running reports whether the invite host runs.
func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host != nil
}

// startHost starts an invite host with a fresh identity. s.mu is held.
func (s *Server) startHost() (host.Host, error) {
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("invite host key: %w", err)
	}
	// No PSK: the new device does not hold the network key yet. p2p.New
	// maps no router ports and runs no relay; nothing here runs mDNS.
	h, err := p2p.New(p2p.Config{PrivKey: key, ListenAddrs: s.listen})
	if err != nil {
		return nil, fmt.Errorf("invite host: %w", err)
	}
	h.SetStreamHandler(ProtocolID, s.serve)
	s.log.Info("invite host started", "invite_host", h.ID(), "addrs", h.Addrs())
	return h, nil
}

// sweep closes the invite host once every invite has expired, or sets the
// timer for the next expiry. The timer and a successful redeem call it.
func (s *Server) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.scheduleLocked(s.now())
	}
}

// scheduleLocked sets the timer for the earliest expiry to come, or closes
// the host if every invite has expired. s.mu is held.
func (s *Server) scheduleLocked(now time.Time) {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	var next time.Time
	for _, e := range s.entries {
		if e.live(now) && (next.IsZero() || e.expires.Before(next)) {
			next = e.expires
		}
	}
	if next.IsZero() {
		s.closeHostLocked()
		return
	}
	s.timer = time.AfterFunc(next.Sub(now), s.sweep)
}

// closeHostLocked closes the invite host in the background and forgets
// every invite: all have expired, and nobody can reach the host to ask
// about them. s.mu is held.
func (s *Server) closeHostLocked() {
	s.entries = nil
	h := s.host
	if h == nil {
		return
	}
	s.host = nil
	s.closing.Add(1)
	// Not under s.mu, and not on a stream handler of h itself.
	go func() {
		defer s.closing.Done()
		if err := h.Close(); err != nil {
			s.log.Debug("invite host close", "err", err)
		}
		s.log.Info("invite host closed: every invite has expired", "invite_host", h.ID())
	}()
}

// forgetLocked drops the oldest invites that are no longer pending, down to
// maxRemembered. s.mu is held.
func (s *Server) forgetLocked(now time.Time) {
	excess := len(s.entries) - maxRemembered
	s.entries = slices.DeleteFunc(s.entries, func(e *entry) bool {
		if excess > 0 && !e.pending(now) {
			excess--
			return true
		}
		return false
	})
}

func (s *Server) pendingLocked(now time.Time) int {
	n := 0
	for _, e := range s.entries {
		if e.pending(now) {
			n++
		}
	}
	return n
}

// redeem consumes tok if it names a pending invite, and says why not
// otherwise; with statusOK it returns the invite, for giveBack. Every
// remembered token is compared, in constant time.
func (s *Server) redeem(tok Token) (*entry, byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *entry
	for _, e := range s.entries {
		if subtle.ConstantTimeCompare(e.token[:], tok[:]) == 1 && found == nil {
			found = e
		}
	}
	switch {
	case found == nil:
		return nil, statusUnknown
	case found.used:
		return nil, statusUsed
	case !s.now().Before(found.expires):
		return nil, statusExpired
	}
	found.used = true
	return found, statusOK
}

// giveBack makes an invite redeemable again after its grant could not be
// sent: the joiner, who alone holds its token, may retry.
func (s *Server) giveBack(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.used = false
}

// serve runs one exchange on the invite host. Whatever the joiner sends, it
// reads at most TokenSize+maxTrailing bytes within streamTimeout.
func (s *Server) serve(st network.Stream) {
	if err := st.SetDeadline(time.Now().Add(streamTimeout)); err != nil {
		st.Reset()
		return
	}
	// Refusals that need no token come first, and do not wait for the
	// joiner: a source that holds streams open must not take the slots
	// of the joiners behind it.
	src := sourceOf(st.Conn().RemoteMultiaddr())
	if !s.failures.Allow(src) {
		refuse(st, statusRateLimited)
		return
	}
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		s.failures.Fail(src) // a flood of streams costs its source too
		refuse(st, statusBusy)
		return
	}
	var tok Token
	if _, err := io.ReadFull(st, tok[:]); err != nil {
		s.failures.Fail(src)
		st.Reset()
		return
	}
	e, status := s.redeem(tok)
	if status != statusOK {
		s.failures.Fail(src)
		s.log.Warn("invite refused", "from", src, "reason", statusErr[status])
		_ = s.answer(st, []byte{status}) // a refusal: nothing to give back
		return
	}
	s.log.Info("invite redeemed", "from", src, "device_host", st.Conn().RemotePeer())
	if err := s.answer(st, encodeGrant(s.secret, s.addrs())); err != nil {
		s.giveBack(e)
		s.log.Info("invite grant not delivered; the code stays good", "from", src, "err", err)
		return
	}
	// The host may close now, and the answer is already through: answer
	// waited for the joiner to close its side.
	s.sweep()
}

// refuse answers a refusal without waiting for the joiner: if it is cut
// short, the joiner sees a reset, and nothing was at stake.
func refuse(st network.Stream, status byte) {
	if _, err := st.Write([]byte{status}); err != nil {
		st.Reset()
		return
	}
	st.Close()
}

// answer writes b, then waits, within the stream's deadline, for the joiner
// to close the stream, which it does once it has read b: closing the host
// right after must not cut b short. An error means b was not sent whole.
func (s *Server) answer(st network.Stream, b []byte) error {
	if _, err := st.Write(b); err != nil {
		st.Reset()
		return err
	}
	if err := st.CloseWrite(); err != nil {
		st.Reset()
		return err
	}
	io.Copy(io.Discard, io.LimitReader(st, maxTrailing))
	st.Close()
	return nil
}

// bestFirst orders addresses for a code, which keeps the first ones if not
// all fit: loopback last, as it reaches only this machine.
func bestFirst(addrs []ma.Multiaddr) []ma.Multiaddr {
	out := slices.Clone(addrs)
	slices.SortStableFunc(out, func(a, b ma.Multiaddr) int {
		la, lb := manet.IsIPLoopback(a), manet.IsIPLoopback(b)
		switch {
		case la == lb:
			return 0
		case lb:
			return -1
		default:
			return 1
		}
	})
	return out
}
