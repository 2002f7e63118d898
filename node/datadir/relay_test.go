package datadir

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/syncnode/syncnode/node/group"
)

func TestInitRelayHoldsNoSecret(t *testing.T) {
	secret := group.Secret{4, 31: 2}
	path := filepath.Join(t.TempDir(), "relay")
	d, err := InitRelay(path, secret.Network())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, SecretFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("relay dir has a secret file: %v", err)
	}
	got, err := d.Network()
	if err != nil {
		t.Fatal(err)
	}
	if got != secret.Network() {
		t.Fatal("relay dir reads back another network")
	}
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(path, e.Name()))
		if bytes.Contains(raw, []byte(secret.String())) {
			t.Errorf("%s holds the group secret", e.Name())
		}
	}
}

func TestDeviceNetworkDerivesFromSecret(t *testing.T) {
	secret := group.Secret{8}
	d, err := Init(t.TempDir(), &secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Network()
	if err != nil || got != secret.Network() {
		t.Fatalf("device network %v, %v", got, err)
	}
}
