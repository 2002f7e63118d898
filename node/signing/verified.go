package signing

import (
	"crypto/sha256"
	"sync"
)

// verifiedGeneration is how many signatures one generation of a
// verifiedSet holds; the set remembers between one and two generations.
// 16k covers the records a node sees in a burst, which is when a record
// reaches it over and over: in a gossip message and then again at merge,
// from several peers, and in anti-entropy rounds that resend it.
const verifiedGeneration = 16 << 10

// verifiedSet remembers recently accepted (signed bytes, signature) pairs
// by their SHA-256, so that a record seen again costs a hash, not an
// Ed25519 verification (about 50 µs, the largest cost of syncing a
// record). Only the exact bytes that were verified match: a record changed
// in any signed field, or carrying another signature, hashes differently
// and is verified afresh. Two generations bound memory at about 5 MiB
// while keeping what was seen recently.
type verifiedSet struct {
	mu        sync.Mutex
	cur, prev map[[sha256.Size]byte]struct{}
}

func verifiedDigest(signed, sig []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(signed)
	h.Write(sig)
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

func (s *verifiedSet) has(d [sha256.Size]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, inCur := s.cur[d]
	_, inPrev := s.prev[d]
	return inCur || inPrev
}

func (s *verifiedSet) add(d [sha256.Size]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || len(s.cur) >= verifiedGeneration {
		s.prev, s.cur = s.cur, make(map[[sha256.Size]byte]struct{}, verifiedGeneration)
	}
	s.cur[d] = struct{}{}
}
