package httpsync

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
)

// Routes served by the handler.
const (
	SyncPath   = "/v1/sync"
	HealthPath = "/healthz"
)

// handler serves POST /v1/sync and GET /healthz.
type handler struct {
	auth    Auth
	store   Store
	clients Clients
	gc      GC
	maxBody int64
	log     *slog.Logger
}

// NewHandler returns the thin-client sync handler. It panics if cfg lacks
// Auth or Store, which is a wiring mistake rather than a runtime condition.
func NewHandler(cfg Config) http.Handler {
	if cfg.Auth == nil || cfg.Store == nil {
		panic("httpsync: Config.Auth and Config.Store are required")
	}
	h := &handler{
		auth:    cfg.Auth,
		store:   cfg.Store,
		clients: cfg.Clients,
		gc:      cfg.GC,
		maxBody: cfg.MaxBodyBytes,
		log:     cfg.Logger,
	}
	if h.clients == nil {
		h.clients = noClients{}
	}
	if h.gc == nil {
		h.gc = noGC{}
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.log = h.log.With("component", "httpsync")
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case SyncPath:
		if r.Method != http.MethodPost {
			notAllowed(w, r, http.MethodPost)
			return
		}
		h.sync(w, r)
	case HealthPath:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			notAllowed(w, r, http.MethodGet, http.MethodHead)
			return
		}
		api.WriteJSON(w, http.StatusOK, Health{Status: "ok"})
	default:
		api.WriteJSON(w, http.StatusNotFound, api.Error{Error: fmt.Sprintf("no route %s", r.URL.Path)})
	}
}

// sync serves one push-and-pull exchange.
func (h *handler) sync(w http.ResponseWriter, r *http.Request) {
	client, err := h.authenticate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := h.readRequest(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.exchange(r.Context(), client, req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, res)
}

// readRequest reads and checks the whole body before anything is applied.
func (h *handler) readRequest(w http.ResponseWriter, r *http.Request) (SyncRequest, error) {
	if r.ContentLength > h.maxBody {
		// Answer at once rather than read a body that will be refused.
		return SyncRequest{}, malformed(&http.MaxBytesError{Limit: h.maxBody}, "")
	}
	return decodeRequest(http.MaxBytesReader(w, r.Body, h.maxBody))
}

// exchange applies req's changes for client and pulls the page after
// req.Since. The cursor is checked first, so a refused request applies
// nothing.
func (h *handler) exchange(ctx context.Context, client string, req SyncRequest) (SyncResponse, error) {
	marked, err := h.checkCursor(client, req.Since)
	if err != nil {
		return SyncResponse{}, err
	}
	rejected, err := apply(ctx, h.store, req.Changes)
	if err != nil {
		return SyncResponse{}, err
	}
	res, err := h.pull(req.Since, req.Limit)
	if err != nil {
		return SyncResponse{}, err
	}
	res.Rejected = rejected
	h.log.Debug("sync", "client", client, "since", req.Since, "pushed", len(req.Changes),
		"rejected", len(rejected), "returned", len(res.Changes), "server_seq", res.ServerSeq)
	// The work is done whether or not the hooks succeed: a client with a
	// stale cursor or mark on record is told to resync later, which is
	// safe, so their failures are only logged.
	if marked {
		if err := h.clients.ClearResync(client); err != nil {
			h.log.Warn("clear resync mark", "client", client, "err", err)
		}
	}
	if err := h.clients.Ack(client, req.Since); err != nil {
		h.log.Warn("record client cursor", "client", client, "err", err)
	}
	return res, nil
}

// checkCursor refuses a since the client cannot resume from: 410 if the
// client must resync, 400 if since lies ahead of the feed. marked reports a
// resync mark that this request, from since=0, will clear.
func (h *handler) checkCursor(client string, since uint64) (marked bool, err error) {
	marked = h.clients.NeedsResync(client)
	if since != 0 {
		if marked {
			return false, gone("client %q is marked to resync: resync from since=0 and replace local state with what it returns", client)
		}
		if head, ok := h.store.SkippedByRestore(since); ok {
			return false, gone("since %d was handed out before the relay was restored from a backup that ends at server_seq %d, and changes after that may be lost: resync from since=0 and replace local state with what it returns", since, head)
		}
		if floor := h.gc.Floor(); since < floor {
			return false, gone("since %d is behind deletions the relay has forgotten (up to server_seq %d): resync from since=0 and replace local state with what it returns", since, floor)
		}
	}
	if head := h.store.Stats().FeedHead; since > head {
		return false, badRequest("since %d is ahead of the server (server_seq %d): resync from 0", since, head)
	}
	return marked, nil
}

// pull returns up to limit changes after since.
func (h *handler) pull(since uint64, limit int) (SyncResponse, error) {
	// Read the head before the page: a commit in between then shows up in
	// the page or above the returned server_seq, never in a gap below it.
	head := h.store.Stats().FeedHead
	page, next, err := h.store.Changes(since, "", limit+1)
	if err != nil {
		return SyncResponse{}, fmt.Errorf("sync pull: %w", err)
	}
	res := SyncResponse{ServerSeq: max(head, next), More: len(page) > limit}
	if res.More {
		page = page[:limit]
		res.ServerSeq = page[limit-1].Pos
	}
	// syncnode's own namespaces (the group's device list) are not the
	// client's data; server_seq still moves past them.
	res.Changes = make([]Change, 0, len(page))
	for _, c := range page {
		if !crdt.IsSystemNamespace(c.Record.NS) {
			res.Changes = append(res.Changes, fromChange(c))
		}
	}
	return res, nil
}
