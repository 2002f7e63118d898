package invite

import (
	"errors"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/node/group"
)

func TestRelayCodeRoundTrip(t *testing.T) {
	secret := group.Secret{3, 31: 7}
	code := EncodeRelay(secret.Network())
	if !strings.HasPrefix(code, RelayPrefix) {
		t.Fatalf("code %q lacks the prefix", code)
	}
	got, err := DecodeRelay("\n " + code + " \n")
	if err != nil {
		t.Fatal(err)
	}
	if got != secret.Network() {
		t.Fatal("decoded another network")
	}
}

func TestRelayCodeCarriesNoSecret(t *testing.T) {
	secret := group.Secret{3, 31: 7}
	code := EncodeRelay(secret.Network())
	if _, err := Decode(code); err == nil {
		t.Fatal("a relay code decodes as a join code")
	}
	payload, err := unwrap(code, RelayPrefix, relayPayloadLen)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(payload), string(secret[:])) {
		t.Fatal("relay code holds the group secret")
	}
}

func TestRelayCodeBadInput(t *testing.T) {
	good := EncodeRelay(group.Secret{1}.Network())
	typo := []byte(good)
	typo[20] = map[bool]byte{true: 'B', false: 'A'}[typo[20] == 'A']
	for name, tc := range map[string]struct {
		code string
		want error
	}{
		"join code":  {mustEncode(t, sample(t)), ErrRelayPrefix},
		"empty":      {"", ErrRelayPrefix},
		"truncated":  {good[:len(good)-10], ErrTruncated},
		"typo":       {string(typo), ErrChecksum},
		"bad char":   {good + "!", ErrEncoding},
		"too long":   {RelayPrefix + strings.Repeat("A", MaxCodeLen), ErrTooLong},
		"wrong size": {wrap(RelayPrefix, []byte{RelayVersion, 1, 2, 3}), ErrTruncated},
		"version":    {wrap(RelayPrefix, append([]byte{RelayVersion + 1}, group.Secret{1}.Network().Bytes()...)), ErrVersion},
	} {
		if _, err := DecodeRelay(tc.code); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}
