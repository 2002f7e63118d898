package registry

import (
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

func TestCreateAuthenticateRevokeList(t *testing.T) {
	r := openTest(t)
	laptop := r.mustCreate(t, "laptop")
	r.clock.Advance(time.Minute)
	phone := r.mustCreate(t, "phone")

	for tok, want := range map[string]string{laptop: "laptop", phone: "phone"} {
		d, err := r.Authenticate(tok)
		if err != nil || d.Name != want {
			t.Fatalf("Authenticate(%s's token) = %q, %v", want, d.Name, err)
		}
	}

	revokedAt := r.clock.Now().Add(time.Hour)
	r.clock.Advance(time.Hour)
	d, err := r.Revoke("phone")
	if err != nil || !d.Revoked || !d.RevokedAt.Equal(revokedAt) {
		t.Fatalf("Revoke = %+v, %v; want revoked at %v", d, err, revokedAt)
	}
	if _, err := r.Authenticate(phone); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Authenticate(revoked) error = %v, want ErrRevoked", err)
	}
	if _, err := r.Authenticate(laptop); err != nil {
		t.Fatalf("revoking phone broke laptop: %v", err)
	}

	r.clock.Advance(time.Hour)
	d, err = r.Revoke("phone")
	if err != nil || !d.RevokedAt.Equal(revokedAt) {
		t.Fatalf("second Revoke = %+v, %v; want no error and the first RevokedAt", d, err)
	}
	if _, err := r.Revoke("tablet"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Revoke(unknown) error = %v, want ErrUnknown", err)
	}

	list := r.List()
	if len(list) != 2 || list[0].Name != "laptop" || list[1].Name != "phone" {
		t.Fatalf("List = %+v, want laptop then phone", list)
	}
	if list[0].Revoked || !list[1].Revoked {
		t.Fatalf("List revocations = %v, %v; want false, true", list[0].Revoked, list[1].Revoked)
	}
	if !list[1].Created.Equal(r.clock.Now().Add(-2 * time.Hour)) {
		t.Fatalf("phone Created = %v", list[1].Created)
	}
}

func TestListIsSortedAndCopied(t *testing.T) {
	r := openTest(t)
	for _, n := range []string{"zeta", "alpha", "Mid", "beta"} {
		r.mustCreate(t, n)
	}
	if err := r.Ack("alpha", crdt.Vector{"o": 1}, 1); err != nil {
		t.Fatal(err)
	}
	list := r.List()
	var names []string
	for _, d := range list {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "Mid,alpha,beta,zeta" {
		t.Fatalf("List order = %s", got)
	}
	list[1].Ack["o"] = 99
	if got := r.List()[1].Ack["o"]; got != 1 {
		t.Fatalf("changing a listed Ack changed the registry: %d", got)
	}
}

func TestCreateRejectsBadAndDuplicateNames(t *testing.T) {
	r := openTest(t)
	for _, name := range []string{"", strings.Repeat("a", 65), "my laptop", "a/b", "ünï", "x\x00", "semi;colon"} {
		if _, err := r.Create(name); !errors.Is(err, ErrBadName) {
			t.Errorf("Create(%q) error = %v, want ErrBadName", name, err)
		}
	}
	for _, name := range []string{strings.Repeat("a", 64), "A.b_c-9", "-", "."} {
		r.mustCreate(t, name)
	}
	r.mustCreate(t, "laptop")
	if _, err := r.Create("laptop"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate Create error = %v, want ErrExists", err)
	}
	if _, err := r.Revoke("laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create("laptop"); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a revoked name error = %v, want ErrExists", err)
	}
	if n := len(r.List()); n != 5 {
		t.Fatalf("List has %d devices, want 5", n)
	}
}

var tokenPattern = regexp.MustCompile(`^snr_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`)

func TestTokenFormat(t *testing.T) {
	r := openTest(t)
	a, b := r.mustCreate(t, "a"), r.mustCreate(t, "b")
	for _, tok := range []string{a, b} {
		if !tokenPattern.MatchString(tok) {
			t.Fatalf("token %q does not match %s", tok, tokenPattern)
		}
	}
	if a[:20] == b[:20] || a[21:] == b[21:] {
		t.Fatalf("two tokens share an id or a secret: %q %q", a, b)
	}
}

func TestFileNeverHoldsTheToken(t *testing.T) {
	r := openTest(t)
	var tokens []string
	for _, n := range []string{"laptop", "phone", "http-client"} {
		tokens = append(tokens, r.mustCreate(t, n))
	}
	raw, err := os.ReadFile(r.path)
	if err != nil {
		t.Fatal(err)
	}
	file := string(raw)
	if !strings.Contains(file, "http-client") || !strings.Contains(file, tokens[0][4:20]) {
		t.Fatal("file lacks a device name or token id: the scan below would prove nothing")
	}
	for _, tok := range tokens {
		secretText := tok[21:]
		secret, err := base64.RawURLEncoding.DecodeString(secretText)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{tok, secretText, base64.StdEncoding.EncodeToString(secret)} {
			if strings.Contains(file, leak) {
				t.Fatalf("registry file contains a token or its secret (%q)", leak)
			}
		}
	}
	info, err := os.Stat(r.path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("file mode = %o, want 600", mode)
	}
}

func TestAuthenticateRejectsBadTokens(t *testing.T) {
	r := openTest(t)
	good := r.mustCreate(t, "laptop")
	other := r.mustCreate(t, "phone")
	id, secret := good[:20], good[21:]
	// The last secret character carries two padding bits; B and C set them.
	nonCanonical := good[:len(good)-1] + "B"
	if strings.HasSuffix(good, "B") {
		nonCanonical = good[:len(good)-1] + "C"
	}

	cases := map[string]struct {
		token  string
		hashes int64
	}{
		"wrong secret":     {id + "_" + other[21:], 1},
		"unknown id":       {"snr_0123456789abcdef_" + secret, 1},
		"empty":            {"", 0},
		"prefix only":      {"snr_", 0},
		"wrong prefix":     {"xyz_" + good[4:], 0},
		"uppercase id":     {"snr_ABCDEF0123456789_" + secret, 0},
		"missing sep":      {id + "x" + secret, 0},
		"short secret":     {good[:len(good)-1], 0},
		"long":             {good + "A", 0},
		"non-canonical":    {nonCanonical, 0},
		"newline":          {good[:len(good)-1] + "\n", 0},
		"not base64":       {good[:len(good)-1] + "*", 0},
		"huge":             {strings.Repeat("a", 1<<20), 0},
		"token with space": {" " + good[1:], 0},
	}
	for name, tc := range cases {
		var err error
		n := r.hashesDuring(func() { _, err = r.Authenticate(tc.token) })
		if !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: error = %v, want ErrBadToken", name, err)
		}
		if n != tc.hashes {
			t.Errorf("%s: %d argon2id runs, want %d", name, n, tc.hashes)
		}
	}

	if _, err := r.Revoke("laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(id + "_" + other[21:]); !errors.Is(err, ErrBadToken) {
		t.Fatalf("wrong secret for a revoked device: error = %v, want ErrBadToken (no hint of revocation)", err)
	}
}

func TestAuthenticateCachesVerifiedTokens(t *testing.T) {
	r := openTest(t)
	tok := r.mustCreate(t, "client")

	if n := r.hashesDuring(func() { mustAuth(t, r, tok) }); n != 1 {
		t.Fatalf("first Authenticate ran argon2id %d times, want 1", n)
	}
	if n := r.hashesDuring(func() {
		for range 10 {
			mustAuth(t, r, tok)
		}
	}); n != 0 {
		t.Fatalf("cached Authenticate ran argon2id %d times, want 0", n)
	}

	wrong := tok[:21] + r.mustCreate(t, "other")[21:]
	if n := r.hashesDuring(func() { r.Authenticate(wrong) }); n != 1 {
		t.Fatalf("a wrong secret for a cached id ran argon2id %d times, want 1", n)
	}
	if n := r.hashesDuring(func() { mustAuth(t, r, tok) }); n != 0 {
		t.Fatal("a failed attempt evicted the cached token")
	}

	if _, err := r.Revoke("client"); err != nil {
		t.Fatal(err)
	}
	var err error
	if n := r.hashesDuring(func() { _, err = r.Authenticate(tok) }); n != 1 || !errors.Is(err, ErrRevoked) {
		t.Fatalf("after revoke: %d argon2id runs, error %v; want 1 and ErrRevoked", n, err)
	}
}

// A revocation that lands while a token's hash is running wins.
func TestRevokeDuringAuthenticate(t *testing.T) {
	r := openTest(t)
	tok := r.mustCreate(t, "laptop")
	started, release := make(chan struct{}), make(chan struct{})
	r.hash = func(secret, salt []byte, p kdfParams) []byte {
		close(started)
		<-release
		return argon2ID(secret, salt, p)
	}
	errc := make(chan error)
	go func() {
		_, err := r.Authenticate(tok)
		errc <- err
	}()
	<-started
	if _, err := r.Revoke("laptop"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-errc; !errors.Is(err, ErrRevoked) {
		t.Fatalf("Authenticate racing Revoke: error = %v, want ErrRevoked", err)
	}
}

func TestDefaultParams(t *testing.T) {
	path := t.TempDir() + "/devices.json"
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var runs []kdfParams
	r.hash = func(secret, salt []byte, p kdfParams) []byte {
		runs = append(runs, p)
		return argon2ID(secret, salt, p)
	}
	tok, err := r.Create("laptop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(tok); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate("snr_0000000000000000_" + tok[21:]); !errors.Is(err, ErrBadToken) {
		t.Fatalf("unknown id: error = %v", err)
	}
	want := kdfParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, KeyLen: 32}
	if len(runs) != 3 {
		t.Fatalf("%d argon2id runs for create, authenticate and an unknown id; want 3", len(runs))
	}
	for i, p := range runs {
		if p != want {
			t.Fatalf("run %d used %+v, want %+v", i, p, want)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := decodeFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c := entries[0].cred; c.params != want || len(c.salt) != 16 || len(c.hash) != 32 {
		t.Fatalf("stored credential: params %+v, %d-byte salt, %d-byte hash", c.params, len(c.salt), len(c.hash))
	}
}

func mustAuth(tb testing.TB, r *testRegistry, tok string) Device {
	tb.Helper()
	d, err := r.Authenticate(tok)
	if err != nil {
		tb.Fatalf("Authenticate: %v", err)
	}
	return d
}
