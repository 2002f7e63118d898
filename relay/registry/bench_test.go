package registry

import (
	"path/filepath"
	"testing"
)

// BenchmarkAuthenticate compares a token's first verification (argon2id at
// the default parameters) with later, cached ones.
func BenchmarkAuthenticate(b *testing.B) {
	r, err := Open(filepath.Join(b.TempDir(), "devices.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := r.Create("client")
	if err != nil {
		b.Fatal(err)
	}
	auth := func(b *testing.B) {
		if _, err := r.Authenticate(tok); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			r.mu.Lock()
			clear(r.cache)
			r.mu.Unlock()
			auth(b)
		}
	})
	b.Run("cached", func(b *testing.B) {
		auth(b)
		for b.Loop() {
			auth(b)
		}
	})
}
