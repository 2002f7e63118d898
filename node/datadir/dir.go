package datadir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/syncnode/syncnode/node/group"
)

// Names of the entries in a data directory. TokenFile and APIAddrFile are
// part of the user-facing contract: scripts read them.
const (
	IdentityFile = "identity.key"  // libp2p private key, crypto.MarshalPrivateKey form
	SecretFile   = "group.secret"  // group secret, hex (devices)
	NetworkFile  = "group.network" // the group's network half, hex (relays: no secret)
	TokenFile    = "api-token"     // local API bearer token
	APIAddrFile  = "api-addr"      // host:port of the running node's API
	DBDir        = "db"            // Badger database
)

// tokenSize is the number of random bytes in an API token.
const tokenSize = 32

var (
	// ErrAlreadyInitialized is returned by Init when the directory already
	// holds an identity.
	ErrAlreadyInitialized = errors.New("data directory is already initialized")
	// ErrNotInitialized is returned by Open when the directory holds no
	// identity.
	ErrNotInitialized = errors.New("data directory is not initialized: run `syncnode init` or `syncnode run`")
)

// Dir is an initialized data directory. Its methods read and write the
// files on each call, so several processes can share one directory.
type Dir struct {
	// Path is the directory's path.
	Path string
}

// Init creates a device's data directory at path (DefaultPath if empty)
// with a fresh identity, the given group secret (a new one if nil) and a new
// API token. It fails with ErrAlreadyInitialized if path already holds an
// identity.
func Init(path string, secret *group.Secret) (*Dir, error) {
	s, err := secretOrNew(secret)
	if err != nil {
		return nil, fmt.Errorf("datadir init: %w", err)
	}
	text, _ := s.MarshalText()
	return initDir(path, SecretFile, text)
}

// InitRelay creates a relay's data directory: like Init, but it holds only
// the group's network half, never the secret, so the relay cannot derive the
// value key.
func InitRelay(path string, network group.Network) (*Dir, error) {
	text, _ := network.MarshalText()
	return initDir(path, NetworkFile, text)
}

func initDir(path, groupFile string, groupText []byte) (*Dir, error) {
	path, err := resolve(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(path, IdentityFile)); err == nil {
		return nil, fmt.Errorf("datadir init %s: %w", path, ErrAlreadyInitialized)
	}
	if err := makeDir(path); err != nil {
		return nil, fmt.Errorf("datadir init: %w", err)
	}
	d := &Dir{Path: path}
	if err := d.init(groupFile, groupText); err != nil {
		return nil, fmt.Errorf("datadir init %s: %w", path, err)
	}
	return d, nil
}

// init writes the directory's contents. The identity goes last and only if
// absent: its presence marks the directory initialized, so an interrupted
// Init can simply be run again.
func (d *Dir) init(groupFile string, groupText []byte) error {
	if err := writeAtomic(d.Path, groupFile, append(groupText, '\n'), false); err != nil {
		return err
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	if err := writeAtomic(d.Path, TokenFile, []byte(token+"\n"), false); err != nil {
		return err
	}
	if err := makeDir(d.DBPath()); err != nil {
		return err
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate identity: %w", err)
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal identity: %w", err)
	}
	err = writeAtomic(d.Path, IdentityFile, raw, true)
	if errors.Is(err, fs.ErrExist) {
		return ErrAlreadyInitialized
	}
	return err
}

// Open opens the initialized data directory at path (DefaultPath if empty).
// It fails with ErrNotInitialized if path holds no identity.
func Open(path string) (*Dir, error) {
	path, err := resolve(path)
	if err != nil {
		return nil, err
	}
	switch _, err := os.Stat(filepath.Join(path, IdentityFile)); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("datadir open %s: %w", path, ErrNotInitialized)
	case err != nil:
		return nil, fmt.Errorf("datadir open: %w", err)
	}
	return &Dir{Path: path}, nil
}

// OpenOrInit opens the data directory at path (DefaultPath if empty),
// initializing it with a new group secret if needed; created reports
// whether it did.
func OpenOrInit(path string) (d *Dir, created bool, err error) {
	d, err = Open(path)
	if !errors.Is(err, ErrNotInitialized) {
		return d, false, err
	}
	d, err = Init(path, nil)
	if errors.Is(err, ErrAlreadyInitialized) {
		// Another process initialized it in between.
		d, err = Open(path)
		return d, false, err
	}
	return d, err == nil, err
}

// Identity returns the device's libp2p private key.
func (d *Dir) Identity() (crypto.PrivKey, error) {
	raw, err := d.read(IdentityFile)
	if err != nil {
		return nil, fmt.Errorf("datadir identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("datadir identity %s: %w", d.file(IdentityFile), err)
	}
	return key, nil
}

// Secret returns the group secret.
func (d *Dir) Secret() (group.Secret, error) {
	raw, err := d.read(SecretFile)
	if err != nil {
		return group.Secret{}, fmt.Errorf("datadir secret: %w", err)
	}
	s, err := group.ParseSecret(string(raw))
	if err != nil {
		return group.Secret{}, fmt.Errorf("datadir secret %s: %w", d.file(SecretFile), err)
	}
	return s, nil
}

// Network returns the group's network half: derived from the secret on a
// device, read from NetworkFile on a relay.
func (d *Dir) Network() (group.Network, error) {
	if _, err := os.Stat(d.file(SecretFile)); err == nil {
		s, err := d.Secret()
		if err != nil {
			return group.Network{}, err
		}
		return s.Network(), nil
	}
	raw, err := d.read(NetworkFile)
	if err != nil {
		return group.Network{}, fmt.Errorf("datadir network: %w", err)
	}
	var n group.Network
	if err := n.UnmarshalText(raw); err != nil {
		return group.Network{}, fmt.Errorf("datadir network %s: %w", d.file(NetworkFile), err)
	}
	return n, nil
}

// Token returns the local API's bearer token.
func (d *Dir) Token() (string, error) {
	raw, err := d.read(TokenFile)
	if err != nil {
		return "", fmt.Errorf("datadir token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("datadir token: %s is empty", d.file(TokenFile))
	}
	return token, nil
}

// DBPath returns the database directory's path.
func (d *Dir) DBPath() string { return d.file(DBDir) }

// ReadFile returns the content of the named file in the directory. name must
// be a plain file name; a missing file gives an error matching
// fs.ErrNotExist.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("datadir read: %w", err)
	}
	data, err := d.read(name)
	if err != nil {
		return nil, fmt.Errorf("datadir read: %w", err)
	}
	return data, nil
}

// WriteFile atomically replaces the named file in the directory with data,
// mode 0600. name must be a plain file name.
func (d *Dir) WriteFile(name string, data []byte) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("datadir write: %w", err)
	}
	if err := writeAtomic(d.Path, name, data, false); err != nil {
		return fmt.Errorf("datadir write: %w", err)
	}
	return nil
}

func (d *Dir) file(name string) string { return filepath.Join(d.Path, name) }

func (d *Dir) read(name string) ([]byte, error) { return readBounded(d.file(name)) }

// makeDir creates path with mode 0700 if absent. An existing directory is
// left as it is, since the user may have chosen its mode.
func makeDir(path string) error {
	err := os.Mkdir(path, dirMode)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
			return err
		}
		err = os.Mkdir(path, dirMode)
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		info, serr := os.Stat(path)
		if serr != nil {
			return serr
		}
		if !info.IsDir() {
			return fmt.Errorf("%s is not a directory", path)
		}
		return nil
	case err != nil:
		return err
	}
	// Mkdir's mode is filtered by the umask; the contract is 0700.
	return os.Chmod(path, dirMode)
}

func secretOrNew(s *group.Secret) (group.Secret, error) {
	if s != nil {
		return *s, nil
	}
	return group.NewSecret()
}

func newToken() (string, error) {
	b := make([]byte, tokenSize)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
