// Package httpsync serves the relay's HTTP sync for thin clients: one
// route, POST /v1/sync, pushes a client's changes and pulls everything the
// relay accepted after the client's cursor, so a script with curl alone can
// sync records with the devices on the mesh.
//
// A request carries a bearer token and a JSON body:
//
//	{"since": 0, "limit": 1000, "changes": [
//	  {"ns": "tasks", "key": "t1", "value": {"title": "milk"}},
//	  {"ns": "tasks", "key": "t2", "deleted": true, "hlc": "114688000000000000"}]}
//
// since is the server sequence number (the relay's feed position) the client
// has seen, 0 or absent the first time; limit caps the changes returned
// (0 or absent means DefaultLimit, at most MaxLimit); changes holds up to
// MaxChanges writes. A change without "hlc" is stamped by the relay and
// always wins; one with its own "hlc" (a decimal uint64 in a string) wins
// only if it is newer than the stored version. The answer is
//
//	{"server_seq": 42, "changes": [{"ns","key","value","deleted",
//	  "version": {"hlc","origin","seq"}, "server_seq": 41}, ...],
//	 "rejected": [{"index": 1, "ns","key","reason"}], "more": false}
//
// Incoming changes are applied first, so the changes returned, those after
// since, include the canonical result of the client's own writes. The client
// passes server_seq as its next since, and repeats while more is true. A
// change the relay refuses (bad namespace or key, value over
// crdt.MaxValueSize, a stamp too far ahead, superseded by a newer version)
// is listed in rejected, by its index in the request, without failing the
// others. A retry of the same request is harmless: an identical value is a
// no-op and an older stamp is reported superseded.
//
// Request-level errors apply nothing and answer {"error": "..."}: 400 for a
// malformed body, an unknown field, a bad since or limit, too many changes,
// or a since ahead of the relay; 401 for a missing, wrong or revoked token;
// 413 for a body over the limit; 429 with Retry-After when the source is
// rate-limited; 405 and 404 for a wrong method or path; and 410 Gone when the
// client must resync: it is marked to, or tombstones it never saw were
// collected. It then pulls again from since=0 and replaces its local state
// with what it gets. GET /healthz answers {"status":"ok"} without a token.
//
// The source an Auth rate-limits is the TCP peer address. Behind a reverse
// proxy that is the proxy for every client; X-Forwarded-For is not trusted.
package httpsync
