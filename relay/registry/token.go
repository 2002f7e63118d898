package registry

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// A token reads snr_<id>_<secret>. The id, 8 random bytes in lowercase hex,
// locates the registry entry, so that checking a token costs at most one
// argon2id run; the secret, 32 random bytes in unpadded base64url, is what
// the stored hash proves. The secret's alphabet includes '_', so tokens are
// parsed by position, never split on '_'.
const (
	tokenPrefix = "snr_"
	idSize      = 8
	secretSize  = 32
	idLen       = 2 * idSize
	tokenLen    = len(tokenPrefix) + idLen + 1 + (secretSize*8+5)/6
)

var secretEncoding = base64.RawURLEncoding.Strict()

// newToken returns a fresh token with its id and secret.
func newToken() (token, id string, secret []byte) {
	var b [idSize + secretSize]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	id = hex.EncodeToString(b[:idSize])
	secret = b[idSize:]
	return tokenPrefix + id + "_" + secretEncoding.EncodeToString(secret), id, secret
}

// parseToken splits a token into its id and secret, failing with
// ErrBadToken on anything that is not exactly the format newToken makes.
func parseToken(token string) (id string, secret []byte, err error) {
	if len(token) != tokenLen || token[:len(tokenPrefix)] != tokenPrefix ||
		token[len(tokenPrefix)+idLen] != '_' {
		return "", nil, fmt.Errorf("%w: malformed", ErrBadToken)
	}
	id = token[len(tokenPrefix) : len(tokenPrefix)+idLen]
	if !isLowerHex(id) {
		return "", nil, fmt.Errorf("%w: malformed id", ErrBadToken)
	}
	secret, err = secretEncoding.DecodeString(token[len(tokenPrefix)+idLen+1:])
	if err != nil || len(secret) != secretSize {
		return "", nil, fmt.Errorf("%w: malformed secret", ErrBadToken)
	}
	return id, secret, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
