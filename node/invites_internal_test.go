package node

import (
	"slices"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestInviteListen(t *testing.T) {
	var in []ma.Multiaddr
	for _, s := range []string{"/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001", "/ip4/0.0.0.0/tcp/4002", "/ip4/127.0.0.1/tcp/9", "/p2p-circuit"} {
		in = append(in, ma.StringCast(s))
	}
	var got []string
	for _, a := range inviteListen(in) {
		got = append(got, a.String())
	}
	want := []string{"/ip4/0.0.0.0/tcp/0", "/ip6/::/tcp/0", "/ip4/127.0.0.1/tcp/0"}
	if !slices.Equal(got, want) {
		t.Fatalf("inviteListen = %v, want %v", got, want)
	}
}
