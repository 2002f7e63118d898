// Package invite lets a new device join a group: join codes, the exchange
// that hands the group secret to whoever redeems a code first, and relay
// codes.
//
// A join code carries no long-term secret. It holds a random one-time token
// (TokenSize bytes), its expiry, and the addresses and peer ID of an invite
// host: a libp2p host the inviting node runs beside its own while at least
// one invite is pending. The group's hosts sit on a private network (pnet)
// that a device without the secret cannot even connect to, so the invite
// host has no network key, a fresh identity of its own, and serves only
// ProtocolID. It listens on the node's listen IPs at a port of the kernel's
// choosing, never maps router ports and runs no mDNS, and it closes once
// every invite has expired (a used one included, so that trying it again
// says "already used").
//
// To join, Redeem dials the invite host; Noise authenticates it by the peer
// ID in the code, so nobody in between can pose as the inviter or read the
// answer. It sends the token and gets back the group secret and the
// inviting node's own addresses, which the new device keeps as static
// peers. The inviter's Server compares tokens in constant time and consumes
// a token atomically on its first redeem: the same code again is refused as
// used, a late one as expired (the joiner already refuses an expired code
// without dialling, from the expiry in the code), any other as unknown.
// Failed attempts are rate-limited per remote IP, and every read is bounded
// in size and time.
//
// So a code that leaks is worth the secret only to whoever redeems it first,
// and only until it expires (DefaultTTL, 15 minutes); a code redeemed by
// someone else shows up as used to the device it was meant for. Invites
// live in the inviting node's memory: a restart forgets them.
//
// A relay code (EncodeRelay) gives a relay the group's network half, never
// the secret; it needs no exchange and does not expire.
package invite
