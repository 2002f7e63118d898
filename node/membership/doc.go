// Package membership keeps a node's view of its group's devices, from two
// namespaces that syncnode reserves for itself and spreads through the
// ordinary CRDT path, so every device learns them as it learns any record:
//
//   - _devices/<peer ID> holds a device's announcement of itself (its name,
//     and whether it is a relay). Only the device itself may write it.
//   - _revoked/<peer ID> revokes a device. Any device that is not revoked
//     may write it, and nobody can take it back: a tombstone there is
//     refused, and a later revocation of the same device only restates it.
//
// A revocation carries a cut: the revoked device's last write that the
// revoker had seen. Its writes up to the cut stay valid everywhere, so
// every replica still converges on them; every later write of it is
// refused by every node, as is every connection from it.
//
// List is the in-memory index that admission reads on every connection,
// message and record; Check validates system records before they merge.
package membership
