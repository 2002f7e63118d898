package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/datadir"
)

// fileVersion is the format version of the registry file.
const fileVersion = 1

// maxFileSize bounds the registry file. A mutation that would outgrow it
// fails with ErrTooLarge rather than write a file that could not be read
// back.
const maxFileSize = datadir.MaxFileSize

// fileRegistry is the registry file's JSON layout.
type fileRegistry struct {
	Version int          `json:"version"`
	Devices []fileDevice `json:"devices"`
}

type fileDevice struct {
	Name      string      `json:"name"`
	ID        string      `json:"id"`
	Salt      []byte      `json:"salt"`
	Hash      []byte      `json:"hash"`
	Params    kdfParams   `json:"params"`
	Created   time.Time   `json:"created"`
	Revoked   bool        `json:"revoked,omitempty"`
	RevokedAt time.Time   `json:"revoked_at,omitzero"`
	Expires   time.Time   `json:"expires,omitzero"`
	Peer      string      `json:"peer,omitempty"`
	LastSeen  time.Time   `json:"last_seen,omitzero"`
	Ack       crdt.Vector `json:"ack,omitempty"`
	Cursor    uint64      `json:"cursor,omitempty"`
	Resync    bool        `json:"resync,omitempty"`
}

// encodeFile renders entries, in the order given, as the registry file.
func encodeFile(entries []*entry) ([]byte, error) {
	f := fileRegistry{Version: fileVersion, Devices: make([]fileDevice, len(entries))}
	for i, e := range entries {
		fd := fileDevice{
			Name: e.Name, ID: e.cred.id, Salt: e.cred.salt, Hash: e.cred.hash, Params: e.cred.params,
			Created: e.Created, Revoked: e.Revoked, RevokedAt: e.RevokedAt, Expires: e.Expires,
			LastSeen: e.LastSeen, Ack: e.Ack, Cursor: e.Cursor, Resync: e.Resync,
		}
		if e.Peer != "" {
			fd.Peer = e.Peer.String()
		}
		f.Devices[i] = fd
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), maxFileSize)
	}
	return data, nil
}

// errCorrupt is wrapped by every reason decodeFile rejects a file for.
var errCorrupt = errors.New("corrupt registry file")

// decodeFile parses and checks a registry file: every field in bounds, names,
// ids and peers unique. It never panics, whatever data holds.
func decodeFile(data []byte) ([]*entry, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", errCorrupt, maxFileSize)
	}
	var f fileRegistry
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", errCorrupt, f.Version)
	}
	names := make(map[string]bool, len(f.Devices))
	ids := make(map[string]bool, len(f.Devices))
	peers := make(map[peer.ID]bool, len(f.Devices))
	entries := make([]*entry, 0, len(f.Devices))
	for _, fd := range f.Devices {
		e, err := fd.entry()
		if err != nil {
			return nil, fmt.Errorf("%w: device %q: %w", errCorrupt, fd.Name, err)
		}
		if names[e.Name] || ids[e.cred.id] || e.Peer != "" && peers[e.Peer] {
			return nil, fmt.Errorf("%w: device %q repeats a name, id or peer", errCorrupt, fd.Name)
		}
		names[e.Name], ids[e.cred.id] = true, true
		if e.Peer != "" {
			peers[e.Peer] = true
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// entry checks fd and converts it.
func (fd fileDevice) entry() (*entry, error) {
	if err := validateName(fd.Name); err != nil {
		return nil, err
	}
	if len(fd.ID) != idLen || !isLowerHex(fd.ID) {
		return nil, errors.New("bad id")
	}
	if err := fd.Params.validate(); err != nil {
		return nil, err
	}
	if len(fd.Salt) < saltSize || len(fd.Salt) > maxSaltSize || len(fd.Hash) != int(fd.Params.KeyLen) {
		return nil, errors.New("bad salt or hash length")
	}
	if err := validateVector(fd.Ack); err != nil {
		return nil, err
	}
	e := &entry{
		Device: Device{
			Name: fd.Name, Created: fd.Created, Revoked: fd.Revoked, RevokedAt: fd.RevokedAt, Expires: fd.Expires,
			LastSeen: fd.LastSeen, Ack: fd.Ack.Clone(), Cursor: fd.Cursor, Resync: fd.Resync,
		},
		cred: credential{id: fd.ID, salt: fd.Salt, hash: fd.Hash, params: fd.Params},
	}
	if fd.Peer != "" {
		p, err := peer.Decode(fd.Peer)
		if err != nil {
			return nil, fmt.Errorf("bad peer: %w", err)
		}
		e.Peer = p
	}
	return e, nil
}

// validateVector checks the origins of an acknowledged vector.
func validateVector(v crdt.Vector) error {
	for origin := range v {
		if origin == "" || len(origin) > crdt.MaxOriginLen {
			return fmt.Errorf("%w: origin of %d bytes", ErrBadAck, len(origin))
		}
	}
	return nil
}
