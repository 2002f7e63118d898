package group

import (
	"bytes"
	"testing"
)

func TestNetworkMatchesSecret(t *testing.T) {
	s := Secret{7, 31: 9}
	n := s.Network()
	if !bytes.Equal(n.PSK(), s.PSK()) || n.Topic() != s.Topic() || n.Hint() != s.Hint() {
		t.Fatal("the network half derives other keys than the secret")
	}
	if bytes.Contains(n.Bytes(), s[:]) {
		t.Error("the network half holds the secret")
	}
	vk := s.ValueKey()
	if bytes.Contains(n.Bytes(), vk[:]) {
		t.Error("the network half holds the value key")
	}
}

func TestNetworkTextRoundTrip(t *testing.T) {
	n := Secret{1, 2, 3}.Network()
	text, _ := n.MarshalText()
	var got Network
	if err := got.UnmarshalText(append([]byte("  "), append(text, '\n')...)); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatal("round trip changed the network")
	}
}

func TestNetworkBadText(t *testing.T) {
	for _, in := range []string{"", "zz", "00", string(bytes.Repeat([]byte("0"), 2*NetworkSize))} {
		var n Network
		if err := n.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}
