package group

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// fixed returns a deterministic secret whose bytes are seed, seed+1, ...
func fixed(seed byte) Secret {
	var s Secret
	for i := range s {
		s[i] = seed + byte(i)
	}
	return s
}

var hex16 = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestDerivationsDeterministic(t *testing.T) {
	a, b := fixed(1), fixed(1)
	if !bytes.Equal(a.PSK(), b.PSK()) {
		t.Error("PSK differs for equal secrets")
	}
	if a.ValueKey() != b.ValueKey() {
		t.Error("ValueKey differs for equal secrets")
	}
	if a.Hint() != b.Hint() {
		t.Error("Hint differs for equal secrets")
	}
	if a.Topic() != b.Topic() {
		t.Error("Topic differs for equal secrets")
	}
}

// TestDerivationsKnownAnswer pins the derivations to values computed with an
// independent HKDF-SHA256 implementation: devices running different builds
// must agree on every key.
func TestDerivationsKnownAnswer(t *testing.T) {
	s := fixed(0)
	vk := s.ValueKey()
	for _, c := range []struct{ name, got, want string }{
		{"PSK", hex.EncodeToString(s.PSK()), "b70f35bbfe0d374088ecdd93fa79776f79bdebd7ac772e7cf5df2bc7c601fd96"},
		{"ValueKey", hex.EncodeToString(vk[:]), "8cd4e25ae33b931d82c0fd85881713d611db587878fe372b5d3f423ba6e9dcae"},
		{"Hint", s.Hint(), "e513ec74693ef321"},
		{"Topic", s.Topic(), "syncnode/v1/4ea9e63cab7f26b3"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
}

func TestDerivationsShape(t *testing.T) {
	s := fixed(7)
	if n := len(s.PSK()); n != 32 {
		t.Errorf("PSK length %d, want 32", n)
	}
	if !hex16.MatchString(s.Hint()) {
		t.Errorf("Hint %q is not 16 lowercase hex characters", s.Hint())
	}
	topic := s.Topic()
	if !strings.HasPrefix(topic, TopicPrefix) || !hex16.MatchString(strings.TrimPrefix(topic, TopicPrefix)) {
		t.Errorf("Topic %q is not %q + 16 hex characters", topic, TopicPrefix)
	}
}

func TestDerivationsDistinct(t *testing.T) {
	s := fixed(3)
	vk := s.ValueKey()
	parts := map[string]string{
		"secret":   s.String(),
		"psk":      string(s.PSK()),
		"valuekey": string(vk[:]),
		"hint":     s.Hint(),
		"topic":    strings.TrimPrefix(s.Topic(), TopicPrefix),
	}
	seen := map[string]string{}
	for name, v := range parts {
		if other, ok := seen[v]; ok {
			t.Errorf("%s equals %s", name, other)
		}
		seen[v] = name
	}
	// The hint and topic are published; neither may be a prefix of the
	// secret's hex or of a key.
	for _, pub := range []string{s.Hint(), strings.TrimPrefix(s.Topic(), TopicPrefix)} {
		if strings.Contains(s.String(), pub) {
			t.Errorf("published value %s is part of the secret", pub)
		}
	}
}

func TestDerivationsDifferBetweenSecrets(t *testing.T) {
	a, b := fixed(1), fixed(2)
	if bytes.Equal(a.PSK(), b.PSK()) {
		t.Error("PSK equal for different secrets")
	}
	if a.ValueKey() == b.ValueKey() {
		t.Error("ValueKey equal for different secrets")
	}
	if a.Hint() == b.Hint() {
		t.Error("Hint equal for different secrets")
	}
	if a.Topic() == b.Topic() {
		t.Error("Topic equal for different secrets")
	}
}

func TestNewSecretIsRandom(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a == (Secret{}) {
		t.Errorf("NewSecret returned %s and %s", a, b)
	}
}

func TestParseRoundTrip(t *testing.T) {
	s := fixed(200)
	text := s.String()
	if text != strings.ToLower(text) || len(text) != 64 {
		t.Fatalf("String() = %q, want 64 lowercase hex characters", text)
	}
	for _, in := range []string{text, strings.ToUpper(text), "  " + text + "\n"} {
		got, err := ParseSecret(in)
		if err != nil {
			t.Fatalf("ParseSecret(%q): %v", in, err)
		}
		if got != s {
			t.Errorf("ParseSecret(%q) = %s, want %s", in, got, s)
		}
	}
}

func TestTextMarshalRoundTrip(t *testing.T) {
	s := fixed(9)
	b, err := json.Marshal(map[string]Secret{"s": s})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"s":"` + s.String() + `"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back map[string]Secret
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["s"] != s {
		t.Errorf("round trip = %s, want %s", back["s"], s)
	}
}

func TestParseBadInput(t *testing.T) {
	good := fixed(5).String()
	for name, in := range map[string]string{
		"empty":     "",
		"short":     good[:62],
		"long":      good + "00",
		"non-hex":   "zz" + good[2:],
		"inner gap": good[:32] + " " + good[33:],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSecret(in)
			if !errors.Is(err, ErrBadSecret) {
				t.Errorf("ParseSecret(%q) error = %v, want ErrBadSecret", in, err)
			}
		})
	}
	var s Secret = fixed(5)
	if err := s.UnmarshalText([]byte("nope")); err == nil || s != fixed(5) {
		t.Errorf("failed UnmarshalText changed the secret or did not fail: %v", err)
	}
}
