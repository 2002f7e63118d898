package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/node/group"
)

// mustInit initializes a data directory under the test's temp dir.
func mustInit(tb testing.TB, secret *group.Secret) *Dir {
	tb.Helper()
	d, err := Init(filepath.Join(tb.TempDir(), "data"), secret)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func mode(tb testing.TB, path string) fs.FileMode {
	tb.Helper()
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Mode().Perm()
}

// entries lists the directory's names, to catch leftover temporary files.
func entries(tb testing.TB, dir string) []string {
	tb.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestDefaultPath(t *testing.T) {
	t.Setenv(EnvData, "/srv/sync")
	if p, err := DefaultPath(); err != nil || p != "/srv/sync" {
		t.Errorf("with $%s: DefaultPath() = %q, %v", EnvData, p, err)
	}
	t.Setenv(EnvData, "")
	t.Setenv("HOME", "/home/alice")
	if p, err := DefaultPath(); err != nil || p != "/home/alice/.local/share/syncnode" {
		t.Errorf("without $%s: DefaultPath() = %q, %v", EnvData, p, err)
	}
}

func TestEmptyPathMeansDefault(t *testing.T) {
	want := filepath.Join(t.TempDir(), "env")
	t.Setenv(EnvData, want)
	d, err := Init("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Path != want {
		t.Errorf("Init(\"\").Path = %q, want %q", d.Path, want)
	}
	if _, err := Open(""); err != nil {
		t.Errorf("Open(\"\"): %v", err)
	}
}

func TestInitCreatesPrivateFiles(t *testing.T) {
	d := mustInit(t, nil)

	if m := mode(t, d.Path); m != 0o700 {
		t.Errorf("data dir mode %o, want 700", m)
	}
	if m := mode(t, d.DBPath()); m != 0o700 {
		t.Errorf("db dir mode %o, want 700", m)
	}
	for _, name := range []string{IdentityFile, SecretFile, TokenFile} {
		if m := mode(t, filepath.Join(d.Path, name)); m != 0o600 {
			t.Errorf("%s mode %o, want 600", name, m)
		}
	}
	got := strings.Join(entries(t, d.Path), " ")
	if want := "api-token db group.secret identity.key"; got != want {
		t.Errorf("data dir holds %q, want %q", got, want)
	}
}

func TestInitContents(t *testing.T) {
	secret := group.Secret{1, 2, 3}
	d := mustInit(t, &secret)

	key, err := d.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != crypto.Ed25519 {
		t.Errorf("identity key type %v, want Ed25519", key.Type())
	}
	if got, err := d.Secret(); err != nil || got != secret {
		t.Errorf("Secret() = %s, %v; want %s", got, err, secret)
	}
	raw, err := os.ReadFile(filepath.Join(d.Path, SecretFile))
	if err != nil || strings.TrimSpace(string(raw)) != secret.String() {
		t.Errorf("group.secret holds %q, want the hex secret", raw)
	}
	token, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(token) {
		t.Errorf("token %q is not 64 hex characters", token)
	}
	if d.DBPath() != filepath.Join(d.Path, "db") {
		t.Errorf("DBPath() = %q", d.DBPath())
	}
}

func TestInitFreshValuesEachTime(t *testing.T) {
	a, b := mustInit(t, nil), mustInit(t, nil)
	ka, _ := a.Identity()
	kb, _ := b.Identity()
	ida, _ := peer.IDFromPrivateKey(ka)
	idb, _ := peer.IDFromPrivateKey(kb)
	if ida == idb {
		t.Error("two Inits share an identity")
	}
	sa, _ := a.Secret()
	sb, _ := b.Secret()
	if sa == sb {
		t.Error("two Inits without a secret share one")
	}
	ta, _ := a.Token()
	tb, _ := b.Token()
	if ta == tb {
		t.Error("two Inits share a token")
	}
}

func TestInitTwiceFails(t *testing.T) {
	d := mustInit(t, nil)
	before, _ := d.Identity()
	_, err := Init(d.Path, nil)
	if !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second Init error = %v, want ErrAlreadyInitialized", err)
	}
	after, _ := d.Identity()
	if !before.Equals(after) {
		t.Error("second Init replaced the identity")
	}
}

func TestInitIntoExistingEmptyDir(t *testing.T) {
	path := t.TempDir()
	if _, err := Init(path, nil); err != nil {
		t.Fatalf("Init into an empty existing dir: %v", err)
	}
}

func TestInitOverFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(path, nil); err == nil {
		t.Error("Init over a regular file succeeded")
	}
}

func TestOpenNotInitialized(t *testing.T) {
	for _, path := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		_, err := Open(path)
		if !errors.Is(err, ErrNotInitialized) {
			t.Fatalf("Open(%s) error = %v, want ErrNotInitialized", path, err)
		}
		for _, hint := range []string{"syncnode init", "syncnode run", path} {
			if !strings.Contains(err.Error(), hint) {
				t.Errorf("error %q does not mention %q", err, hint)
			}
		}
	}
}

func TestOpenOrInit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	d, created, err := OpenOrInit(path)
	if err != nil || !created {
		t.Fatalf("first OpenOrInit: created=%v err=%v", created, err)
	}
	first, _ := d.Identity()
	d, created, err = OpenOrInit(path)
	if err != nil || created {
		t.Fatalf("second OpenOrInit: created=%v err=%v", created, err)
	}
	second, _ := d.Identity()
	if !first.Equals(second) {
		t.Error("OpenOrInit replaced the identity of an initialized dir")
	}
}

func TestCorruptFilesGiveErrors(t *testing.T) {
	d := mustInit(t, nil)
	for name, content := range map[string]string{
		IdentityFile: "not a key",
		SecretFile:   "abc",
		TokenFile:    " \n",
	} {
		if err := os.WriteFile(filepath.Join(d.Path, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Identity(); err == nil {
		t.Error("Identity() accepted a corrupt key")
	}
	if _, err := d.Secret(); !errors.Is(err, group.ErrBadSecret) {
		t.Errorf("Secret() error = %v, want ErrBadSecret", err)
	}
	if _, err := d.Token(); err == nil {
		t.Error("Token() accepted an empty token")
	}
}

func TestOversizedFileRefused(t *testing.T) {
	d := mustInit(t, nil)
	big := make([]byte, MaxFileSize+1)
	if err := os.WriteFile(filepath.Join(d.Path, SecretFile), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Secret(); err == nil {
		t.Error("Secret() read an oversized file")
	}
}

func TestMissingFileErrors(t *testing.T) {
	d := mustInit(t, nil)
	if err := os.Remove(filepath.Join(d.Path, TokenFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Token(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Token() error = %v, want fs.ErrNotExist", err)
	}
}
