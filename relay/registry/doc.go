// Package registry keeps the relay's paired devices: their pairing tokens,
// stored only as argon2id hashes, the libp2p peer each token is bound to,
// revocations, and what each device last acknowledged, from which the relay
// derives when tombstones may be collected.
package registry
