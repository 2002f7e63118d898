// Package membership keeps a node's view of its group's devices, from two
// namespaces that syncnode reserves for itself and spreads through the
// ordinary CRDT path, so every device learns them as it learns any record:
//
//   - _devices/<peer ID> holds a device's announcement of itself (its name,
//     and whether it is a relay). Only the device itself may write it.
//   - _revoked/<device ID>/<revoker ID> is one device's revocation of
//     another. Any device that is not revoked may write one, in its own
//     name only, and nobody can take it back: a tombstone there is
//     refused, and each revoker's record is its own key, so revocations
//     never replace one another.
//
// A revocation carries a cut: the revoked device's last write that the
// revoker had seen; when several devices revoke the same one, the lowest
// cut holds, so every replica agrees on it once it holds the same records.
// The device's writes up to the cut stay valid everywhere, so every
// replica still converges on them; every later write of it is refused by
// every node, as is every connection from it.
//
// Device IDs appear in one canonical text form only, and device names are
// never device IDs, so no device can pass for another.
//
// List is the in-memory index that admission reads on every connection,
// message and record; Check validates system records before they merge.
package membership
