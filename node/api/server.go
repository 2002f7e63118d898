package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/syncnode/syncnode/node/ratelimit"
)

// Defaults for zero Config fields.
const (
	// DefaultMaxLongPoll caps how long GET /v1/changes may wait.
	DefaultMaxLongPoll = 60 * time.Second
	// DefaultHeartbeat is how often an idle watch stream gets a comment, so
	// proxies and clients can tell a quiet stream from a dead one.
	DefaultHeartbeat = 15 * time.Second
)

// peerTimeout bounds status and peers requests, which may ask every
// connected peer for its digest.
const peerTimeout = 10 * time.Second

// Config configures a Server. Zero optional fields take the defaults above.
type Config struct {
	// Backend serves the data. Required.
	Backend Backend
	// Token is the bearer token every route but /healthz requires.
	// Required.
	Token string
	// Addr is the host:port the API listens on; Host headers are checked
	// against it. Required.
	Addr string
	// Metrics, if set, is served at /metrics behind the token.
	Metrics http.Handler
	// Mounts are extra handlers behind the token and the Host check, each
	// serving every path under its key, which must start and end with "/"
	// (a relay mounts its admin routes at "/v1/admin/").
	Mounts map[string]http.Handler
	// Logger receives failures; nil means slog.Default(). Tokens and record
	// values are never logged.
	Logger *slog.Logger
	// MaxLongPoll caps the wait a changes request may ask for.
	MaxLongPoll time.Duration
	// Heartbeat is the interval of comments on an idle watch stream.
	Heartbeat time.Duration
}

// Server is the local HTTP API. Build it with New; it is safe for
// concurrent use.
type Server struct {
	b           Backend
	tokenSum    [sha256.Size]byte
	hosts       hostPolicy
	log         *slog.Logger
	maxLongPoll time.Duration
	heartbeat   time.Duration
	// routes holds the fixed paths behind the token; /healthz and the
	// record routes are dispatched separately.
	routes map[string]methods
	mounts map[string]http.Handler
	// failures limits wrong tokens per source address; a right token is
	// never limited.
	failures *ratelimit.Limiter
}

// Wrong tokens from one address: a burst of failBurst, then one per
// failEvery; beyond that the API answers 429 without looking further.
const (
	failBurst  = 10
	failEvery  = time.Second
	maxSources = 1024
)

// recordsPrefix starts every record route; the rest of the path is
// {ns}/{key} or {ns}.
const recordsPrefix = "/v1/records/"

// New checks cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("api new: backend is required")
	}
	if cfg.Token == "" {
		return nil, errors.New("api new: token is required")
	}
	hosts, err := newHostPolicy(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("api new: %w", err)
	}
	for prefix := range cfg.Mounts {
		if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") || prefix == "/" {
			return nil, fmt.Errorf("api new: mount %q must be a path like /v1/admin/", prefix)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxLongPoll <= 0 {
		cfg.MaxLongPoll = DefaultMaxLongPoll
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	s := &Server{
		b:           cfg.Backend,
		tokenSum:    sha256.Sum256([]byte(cfg.Token)),
		hosts:       hosts,
		log:         cfg.Logger.With("component", "api"),
		maxLongPoll: cfg.MaxLongPoll,
		heartbeat:   cfg.Heartbeat,
		mounts:      cfg.Mounts,
		failures:    ratelimit.New(rate.Every(failEvery), failBurst, maxSources, nil),
	}
	s.routes = map[string]methods{
		"/v1/changes":        {http.MethodGet: s.changes},
		"/v1/watch":          {http.MethodGet: s.watch},
		"/v1/status":         {http.MethodGet: s.status},
		"/v1/peers":          {http.MethodGet: s.peers},
		"/v1/backup":         {http.MethodGet: s.backup},
		"/v1/invites":        {http.MethodPost: s.createInvite},
		"/v1/devices":        {http.MethodGet: s.devices},
		"/v1/devices/revoke": {http.MethodPost: s.revoke},
	}
	if cfg.Metrics != nil {
		s.routes["/metrics"] = methods{http.MethodGet: cfg.Metrics.ServeHTTP}
	}
	return s, nil
}

// Handler returns the API's root handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// serveHTTP checks the Host header, then the token, then routes. Host comes
// first so that a rebinding page learns nothing, not even whether a token
// would be needed.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hosts.allows(r.Host) {
		WriteJSON(w, http.StatusForbidden, Error{Error: fmt.Sprintf("host %q not allowed", r.Host)})
		return
	}
	if r.URL.Path == "/healthz" {
		methods{http.MethodGet: healthz}.serve(w, r)
		return
	}
	if !s.authorized(r) {
		src := sourceOf(r)
		if !s.failures.Allow(src) {
			w.Header().Set("Retry-After", strconv.Itoa(int(failEvery/time.Second)))
			WriteJSON(w, http.StatusTooManyRequests, Error{Error: "too many wrong tokens from this address; wait and retry"})
			return
		}
		s.failures.Fail(src)
		w.Header().Set("WWW-Authenticate", `Bearer realm="syncnode"`)
		WriteJSON(w, http.StatusUnauthorized, Error{Error: "missing or wrong bearer token"})
		return
	}
	if m, ok := s.routes[r.URL.Path]; ok {
		m.serve(w, r)
		return
	}
	if strings.HasPrefix(r.URL.EscapedPath(), recordsPrefix) {
		s.records(w, r)
		return
	}
	for prefix, h := range s.mounts {
		if strings.HasPrefix(r.URL.Path, prefix) {
			h.ServeHTTP(w, r)
			return
		}
	}
	WriteJSON(w, http.StatusNotFound, Error{Error: fmt.Sprintf("no route %s", r.URL.Path)})
}

// sourceOf is the address failures are counted against.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, Health{OK: true})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), peerTimeout)
	defer cancel()
	st, err := s.b.Status(ctx)
	if err != nil {
		s.fail(w, r, fmt.Errorf("status: %w", err))
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (s *Server) peers(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), peerTimeout)
	defer cancel()
	peers, err := s.b.Peers(ctx)
	if err != nil {
		s.fail(w, r, fmt.Errorf("peers: %w", err))
		return
	}
	if peers == nil {
		peers = []Peer{}
	}
	WriteJSON(w, http.StatusOK, PeersResponse{Peers: peers})
}
