// Package api serves a node's local HTTP API: records, the change feed as a
// long poll and as server-sent events, status, peers, health and metrics,
// behind a bearer token and a Host check against DNS rebinding.
//
// Routes (DESIGN.md §6):
//
//	PUT    /v1/records/{ns}/{key}   body: one JSON value, stored compacted
//	GET    /v1/records/{ns}/{key}   404 if absent or deleted
//	DELETE /v1/records/{ns}/{key}   writes a tombstone
//	GET    /v1/records/{ns}         ?prefix= &after= &limit= (default 100, max 1000)
//	GET    /v1/changes              ?since= &ns= &limit= &wait= (long poll)
//	GET    /v1/watch                ?ns= &since= or Last-Event-ID (text/event-stream)
//	GET    /v1/status, /v1/peers, /metrics
//	POST   /v1/invites              body {"ttl":"15m"} or none → 201 {"code","expires"}
//	GET    /healthz                 the only route without the token
//
// A namespace may hold '/', so the last path segment is the key and the
// segments before it the namespace; a '/' inside a key is sent as %2F. A
// path with one segment, or ending in '/', names a namespace. Limits are
// those of package crdt: values up to crdt.MaxValueSize bytes (413 above),
// keys of 1 to crdt.MaxKeyLen bytes of UTF-8 without NUL, namespaces of 1 to
// crdt.MaxNamespaceLen bytes of A-Z a-z 0-9 _ - . in '/'-separated
// segments. Namespaces starting with '_' are syncnode's own and refuse
// writes. Cursors are decimal feed positions, opaque to clients; "now" means
// the current head. Every error is {"error": "..."}.
package api
