package discovery

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

var (
	// ErrStarted reports a second Start.
	ErrStarted = errors.New("discovery already started")
	// ErrClosed reports a Start after Close.
	ErrClosed = errors.New("discovery closed")
)

// PeerFunc receives a peer of the group found on the LAN, with the addresses
// it advertised on the interfaces it was heard on. It is called from one
// goroutine, never concurrently, once per peer per browse round, so a peer
// that was lost is offered again; it must not call Close. A slow PeerFunc
// delays the next round, so one that dials should not wait for the dial.
type PeerFunc func(peer.AddrInfo)

// Stats counts what the browser has seen. An entry heard in N rounds counts
// N times.
type Stats struct {
	// Interfaces are the interfaces advertised and browsed on.
	Interfaces []string
	// Rounds is the number of completed browse rounds.
	Rounds uint64
	// Reported is the number of PeerFunc calls.
	Reported uint64
	// IgnoredOtherGroup counts entries whose group hint is not ours.
	IgnoredOtherGroup uint64
	// IgnoredMalformed counts entries with a missing, unparsable or
	// undialable field.
	IgnoredMalformed uint64
	// QueryErrors counts queries that failed to run on an interface.
	QueryErrors uint64
}

// Ignored is the number of entries that were not reported.
func (st Stats) Ignored() uint64 { return st.IgnoredOtherGroup + st.IgnoredMalformed }

// Service advertises this device over mDNS and browses for the group's
// other devices on the chosen interfaces.
type Service struct {
	cfg      Config
	found    PeerFunc
	explicit bool
	ifaces   []net.Interface
	log      *slog.Logger
	mdnsLog  *log.Logger

	mu      sync.Mutex
	state   int // stateNew, stateStarted or stateClosed
	cancel  context.CancelFunc
	done    chan struct{}
	ifNames []string

	rounds, reported, otherGroup, malformed, queryErrs atomic.Uint64
}

const (
	stateNew = iota
	stateStarted
	stateClosed
)

// served is an interface with its running mDNS server.
type served struct {
	ifi    net.Interface
	zone   *zone
	server *mdns.Server
	failed bool // the last query on ifi failed; read and written by the loop only
}

// New validates cfg and the named interfaces and returns a stopped Service
// that reports peers to found. It sends nothing until Start.
func New(cfg Config, found PeerFunc) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if found == nil {
		return nil, fmt.Errorf("discovery: %w: nil PeerFunc", ErrInvalidConfig)
	}
	ifaces, err := systemInterfaces(cfg.Interfaces)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	logger := cfg.Logger.With("component", "discovery")
	return &Service{
		cfg:      cfg,
		found:    found,
		explicit: len(cfg.Interfaces) > 0,
		ifaces:   ifaces,
		log:      logger,
		// hashicorp/mdns logs through the log package, and noisily (every
		// query without IPv6 says so); keep it at debug level.
		mdnsLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}, nil
}

// Start starts one mDNS responder per interface and the browse loop, whose
// first round runs at once. Cancelling ctx stops both, as Close does; Close
// is still needed to wait for them. Start fails if a named interface cannot
// listen; an interface picked automatically that cannot is skipped with a
// warning.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateStarted:
		return ErrStarted
	case stateClosed:
		return ErrClosed
	}
	listen := s.cfg.Addrs()
	var active []served
	for _, ifi := range s.ifaces {
		z := &zone{}
		s.refresh(z, &ifi, listen)
		srv, err := mdns.NewServer(&mdns.Config{Zone: z, Iface: &ifi, Logger: s.mdnsLog})
		if err != nil {
			if s.explicit {
				shutdown(active)
				return fmt.Errorf("discovery listen on %s: %w", ifi.Name, err)
			}
			s.log.Warn("mdns skips interface", "iface", ifi.Name, "err", err)
			continue
		}
		active = append(active, served{ifi: ifi, zone: z, server: srv})
	}
	if len(active) == 0 {
		return fmt.Errorf("discovery: %w", ErrNoInterfaces)
	}
	ctx, cancel := context.WithCancel(ctx)
	s.state, s.cancel, s.done = stateStarted, cancel, make(chan struct{})
	s.ifNames = make([]string, len(active))
	for i, a := range active {
		s.ifNames[i] = a.ifi.Name
	}
	go s.loop(ctx, active, s.done)
	s.log.Info("mdns started", "ifaces", s.ifNames, "service", ServiceName)
	return nil
}

// Close stops advertising and browsing and waits until every goroutine the
// Service started has finished or, for hashicorp/mdns's socket readers, has
// had its socket closed. It waits for a browse round in flight, which lasts
// at most QueryTimeout, and for a PeerFunc call in flight. No PeerFunc call
// happens after Close returns. Safe to call more than once and before Start.
func (s *Service) Close() error {
	s.mu.Lock()
	prev := s.state
	s.state = stateClosed
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if prev != stateStarted {
		return nil
	}
	cancel()
	<-done
	return nil
}

// Stats returns the counters so far. Safe for concurrent use.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	names := append([]string(nil), s.ifNames...)
	s.mu.Unlock()
	return Stats{
		Interfaces:        names,
		Rounds:            s.rounds.Load(),
		Reported:          s.reported.Load(),
		IgnoredOtherGroup: s.otherGroup.Load(),
		IgnoredMalformed:  s.malformed.Load(),
		QueryErrors:       s.queryErrs.Load(),
	}
}

// loop runs browse rounds until ctx ends, then stops the servers.
func (s *Service) loop(ctx context.Context, active []served, done chan<- struct{}) {
	defer close(done)
	defer shutdown(active)
	seed := fnv.New64a()
	seed.Write([]byte(s.cfg.Self))
	// Seeded by the peer ID: deterministic for a device, yet different
	// devices drift apart instead of browsing in lockstep.
	rng := rand.New(rand.NewPCG(seed.Sum64(), 0))
	timer := time.NewTimer(0)
	defer timer.Stop()
	// Devices started together each browse before the others answer, so
	// the first rounds come quickly (1 s, 2 s, 4 s, ...) and only then
	// settle at Interval: neighbours meet in seconds, not a full interval.
	delay := min(firstDelay, s.cfg.Interval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		s.round(ctx, active)
		timer.Reset(jitter(delay, rng))
		delay = min(2*delay, s.cfg.Interval)
	}
}

// firstDelay is the wait after the first browse round; it doubles up to
// Config.Interval.
const firstDelay = time.Second

// jitter returns d moved by up to a tenth either way.
func jitter(d time.Duration, rng *rand.Rand) time.Duration {
	span := int64(d / 10)
	if span <= 0 {
		return d
	}
	return d + time.Duration(rng.Int64N(2*span+1)-span)
}

// round refreshes each interface's advertisement, queries all interfaces at
// once and reports the group's peers it heard.
func (s *Service) round(ctx context.Context, active []served) {
	listen := s.cfg.Addrs()
	type result struct {
		entries []*mdns.ServiceEntry
		err     error
		skipped bool
	}
	results := make([]result, len(active))
	var wg sync.WaitGroup
	for i := range active {
		ifi := &active[i].ifi
		if !s.refresh(active[i].zone, ifi, listen) {
			// No IPv4 address yet, so no source for a query either.
			results[i].skipped = true
			continue
		}
		wg.Go(func() {
			results[i].entries, results[i].err = query(ctx, ifi, s.cfg.QueryTimeout, s.mdnsLog)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	var found []peer.AddrInfo
	for i, r := range results {
		a := &active[i]
		if r.skipped {
			continue
		}
		if r.err != nil {
			s.queryErrs.Add(1)
			if !a.failed {
				s.log.Warn("mdns query failed", "iface", a.ifi.Name, "err", r.err, "hint", queryHint(r.err))
			}
			a.failed = true
			continue
		}
		if a.failed {
			s.log.Info("mdns query recovered", "iface", a.ifi.Name)
		}
		a.failed = false
		loopback := a.ifi.Flags&net.FlagLoopback != 0
		for _, e := range r.entries {
			ai, v := classify(e, s.cfg.Self, s.cfg.Hint, loopback)
			switch v {
			case verdictPeer:
				found = append(found, ai)
			case verdictOtherGroup:
				s.otherGroup.Add(1)
			case verdictMalformed:
				s.malformed.Add(1)
				s.log.Debug("mdns entry ignored", "iface", a.ifi.Name, "name", e.Name)
			}
		}
	}
	for _, ai := range mergePeers(found) {
		if ctx.Err() != nil {
			return
		}
		s.reported.Add(1)
		s.found(ai)
	}
	s.rounds.Add(1)
}

// refresh rebuilds the advertisement of ifi from its current addresses and
// the host's listen addresses, and reports whether ifi has an IPv4 address
// to browse from.
func (s *Service) refresh(z *zone, ifi *net.Interface, listen []ma.Multiaddr) bool {
	ips, err := interfaceIPs(ifi)
	if err != nil {
		s.log.Debug("mdns interface addresses", "iface", ifi.Name, "err", err)
	}
	svc, err := advertisement(s.cfg.Self, s.cfg.Hint, ifi.Index, ips, listen)
	if err != nil {
		s.log.Warn("mdns advertisement", "iface", ifi.Name, "err", err)
		svc = nil
	}
	z.set(svc)
	return slices.ContainsFunc(ips, func(ip net.IP) bool { return ip.To4() != nil })
}

// shutdown stops the servers. hashicorp/mdns's Shutdown closes the sockets
// and always returns nil.
func shutdown(active []served) {
	for _, a := range active {
		_ = a.server.Shutdown()
	}
}

// queryHint explains the one query failure a user can fix. hashicorp/mdns's
// browser joins the mDNS group on whichever interface the kernel routes
// 224.0.0.251 to, whatever interface it queries on, so on a host with no
// default route every query fails to bind.
func queryHint(err error) string {
	if strings.Contains(err.Error(), "multicast udp port") {
		return "the host needs a route for 224.0.0.0/4, e.g. a default route or `ip route add 224.0.0.0/4 dev IFACE`"
	}
	return ""
}
