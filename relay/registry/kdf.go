package registry

import (
	"crypto/subtle"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// kdfParams are the argon2id parameters of one stored hash. They are kept
// with each entry, so that the defaults can be raised without invalidating
// tokens already issued.
type kdfParams struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	KeyLen    uint32 `json:"key_len"`
}

// defaultParams is OWASP's minimum for argon2id: 19 MiB, two passes, one
// lane.
var defaultParams = kdfParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32}

// Bounds on parameters and salts read back from the file, so that a damaged
// or hostile file cannot make one verification exhaust memory or time.
const (
	saltSize     = 16
	maxSaltSize  = 64
	maxTime      = 16
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxThreads   = 16
	minKeyLen    = 16
	maxKeyLen    = 64
)

func (p kdfParams) validate() error {
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB ||
		p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen {
		return fmt.Errorf("argon2id parameters %+v out of bounds", p)
	}
	return nil
}

// credential is what the file keeps of a token: its id, and the salt,
// parameters and argon2id hash of its secret. Never the secret itself.
type credential struct {
	id     string
	salt   []byte
	hash   []byte
	params kdfParams
}

// hashFunc derives a key from a secret; argon2ID in production, a counting
// wrapper in tests.
type hashFunc func(secret, salt []byte, p kdfParams) []byte

func argon2ID(secret, salt []byte, p kdfParams) []byte {
	return argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
}

// derive runs the hash function, with at most cap(r.slots) runs at a time,
// so that concurrent attempts cannot multiply argon2's memory without bound.
func (r *Registry) derive(secret []byte, c credential) []byte {
	r.slots <- struct{}{}
	defer func() { <-r.slots }()
	return r.hash(secret, c.salt, c.params)
}

// verify reports, in constant time, whether secret matches c.
func (r *Registry) verify(secret []byte, c credential) bool {
	return subtle.ConstantTimeCompare(r.derive(secret, c), c.hash) == 1
}
