// Package relay is the always-on authoritative node a user runs on a VPS.
//
// A relay is one more peer in the CRDT: the same store, gossip and
// anti-entropy as a device, and the same merge. Its authority is admission,
// durability and ordering, never a different conflict rule:
//
//   - admission: only devices paired with a token (stored as an argon2id
//     hash) may sync with it; a revoked device is disconnected at once,
//     refused from then on, and its records are refused and not relayed;
//   - ordering: its change feed numbers every change it accepts (the
//     server sequence), which HTTP thin clients pull "since";
//   - durability and collection: it tracks what each device has
//     acknowledged and decides when a tombstone may be collected, and tells
//     a device that was away past the horizon to resync;
//   - reachability: it runs libp2p circuit relay v2, with limits, so
//     devices behind NAT reach it and each other, and try hole punching.
//
// The relay holds the group's network half only (see group.Network), never
// the secret.
package relay
