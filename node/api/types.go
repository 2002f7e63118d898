package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// Limits of list and change pages.
const (
	// DefaultListLimit is the page size when a request gives no limit.
	DefaultListLimit = 100
	// MaxListLimit is the largest page a request may ask for.
	MaxListLimit = 1000
)

// Version is the wire form of a crdt.Version. HLC is a decimal uint64 in a
// string, since JSON numbers lose precision above 2^53 in most clients.
type Version struct {
	HLC    string `json:"hlc"`
	Origin string `json:"origin"`
	Seq    uint64 `json:"seq"`
}

// Record is the wire form of a record. Value is absent for a tombstone.
type Record struct {
	NS      string          `json:"ns"`
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value,omitempty"`
	Version Version         `json:"version"`
	Deleted bool            `json:"deleted"`
}

// Change is one entry of the change feed: a record and the cursor that
// resumes the feed right after it.
type Change struct {
	Record
	Cursor string `json:"cursor"`
}

// WriteResponse answers PUT and DELETE of a record.
type WriteResponse struct {
	Version Version `json:"version"`
}

// ListResponse answers GET /v1/records/{ns}. Next is empty on the last page,
// otherwise the key to pass as after for the next one.
type ListResponse struct {
	Records []Record `json:"records"`
	Next    string   `json:"next"`
}

// ChangesResponse answers GET /v1/changes. Cursor is what to pass as since
// next time; it is opaque to clients.
type ChangesResponse struct {
	Changes []Change `json:"changes"`
	Cursor  string   `json:"cursor"`
}

// PeersResponse answers GET /v1/peers.
type PeersResponse struct {
	Peers []Peer `json:"peers"`
}

// InviteRequest is the body of POST /v1/invites, which may be empty.
type InviteRequest struct {
	// TTL is how long the code stays valid, a Go duration such as "15m";
	// empty means invite.DefaultTTL.
	TTL string `json:"ttl,omitempty"`
}

// Invite answers POST /v1/invites: a single-use join code and when it
// expires.
type Invite struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

// Health answers GET /healthz.
type Health struct {
	OK bool `json:"ok"`
}

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

// Status describes a node: GET /v1/status.
type Status struct {
	ID            string            `json:"id"`
	Version       string            `json:"version"` // build version
	Started       time.Time         `json:"started"`
	Addrs         []string          `json:"addrs"`
	API           string            `json:"api"`
	Records       uint64            `json:"records"`
	Tombstones    uint64            `json:"tombstones"`
	Digest        string            `json:"digest"`
	Vector        map[string]uint64 `json:"vector"`
	Peers         []Peer            `json:"peers"`
	Rejected      map[string]uint64 `json:"rejected"` // by reason
	RejectedTotal uint64            `json:"rejected_total"`
	Clock         string            `json:"clock"`      // HLC high-water, decimal
	ServerSeq     uint64            `json:"server_seq"` // change feed head; on a relay, its server sequence
	// Refilling counts keys a revoked device's dropped writes left empty
	// here, waiting for a peer to say what they hold.
	Refilling int        `json:"refilling,omitempty"`
	Relay     *RelayLink `json:"relay,omitempty"`
}

// RelayLink describes a device's link with its relay.
type RelayLink struct {
	ID        string     `json:"id"`
	Connected bool       `json:"connected"`
	Device    string     `json:"device,omitempty"`     // the name the relay knows this device by
	ServerSeq uint64     `json:"server_seq,omitempty"` // the relay's, at the last exchange
	LastOK    *time.Time `json:"last_ok,omitempty"`
	Error     string     `json:"error,omitempty"` // why the last exchange failed
}

// Peer describes one group peer.
type Peer struct {
	ID            string     `json:"id"`
	Addrs         []string   `json:"addrs"`
	Source        string     `json:"source"` // mdns, relay, static or inbound
	Connected     bool       `json:"connected"`
	LastSync      *time.Time `json:"last_sync,omitempty"`
	LastSyncError string     `json:"last_sync_error,omitempty"`
	InSync        bool       `json:"in_sync"`
	Digest        string     `json:"digest,omitempty"`
	Rejected      uint64     `json:"rejected"`
	// Revoked marks a device the group revoked: it is refused, so it is
	// not expected to be in sync.
	Revoked bool `json:"revoked,omitempty"`
}

// FromVersion converts a version to its wire form.
func FromVersion(v crdt.Version) Version {
	return Version{HLC: v.HLC.String(), Origin: string(v.Origin), Seq: v.Seq}
}

// ToVersion converts a wire version back, failing on a malformed HLC.
func ToVersion(v Version) (crdt.Version, error) {
	hlc, err := crdt.ParseTimestamp(v.HLC)
	if err != nil {
		return crdt.Version{}, fmt.Errorf("api version: %w", err)
	}
	return crdt.Version{HLC: hlc, Origin: crdt.NodeID(v.Origin), Seq: v.Seq}, nil
}

// FromRecord converts a record to its wire form.
func FromRecord(r crdt.Record) Record {
	return Record{NS: r.NS, Key: r.Key, Value: r.Value, Version: FromVersion(r.Version), Deleted: r.Deleted}
}

// FromChange converts a feed entry to its wire form.
func FromChange(c store.Change) Change {
	return Change{Record: FromRecord(c.Record), Cursor: FormatCursor(c.Pos)}
}

// FormatCursor renders a feed position as a cursor.
func FormatCursor(pos uint64) string { return strconv.FormatUint(pos, 10) }

// Device is one device of the group, as GET /v1/devices lists it.
type Device struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Relay     bool       `json:"relay"`
	Self      bool       `json:"self"`
	Announced *time.Time `json:"announced,omitempty"`
	Revoked   bool       `json:"revoked"`
	RevokedBy string     `json:"revoked_by,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// DevicesResponse answers GET /v1/devices.
type DevicesResponse struct {
	Devices []Device `json:"devices"`
}

// RevokeRequest is the body of POST /v1/devices/revoke: the device to
// revoke, by name or ID.
type RevokeRequest struct {
	Device string `json:"device"`
}

// RevokeResponse answers POST /v1/devices/revoke with the revoked device.
type RevokeResponse struct {
	Device Device `json:"device"`
}
