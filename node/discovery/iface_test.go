package discovery

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func TestChooseInterfaces(t *testing.T) {
	up, mc, lo := net.FlagUp, net.FlagMulticast, net.FlagLoopback
	all := []net.Interface{
		{Index: 1, Name: "lo", Flags: up | lo},
		{Index: 2, Name: "wlan0", Flags: up | mc},
		{Index: 3, Name: "docker0", Flags: up | mc},
		{Index: 4, Name: "down0", Flags: mc},
		{Index: 5, Name: "wg0", Flags: up},
		{Index: 6, Name: "nov4", Flags: up | mc},
		{Index: 7, Name: "lomc", Flags: up | mc | lo},
	}
	v4 := func(ifi net.Interface) bool { return ifi.Name != "nov4" }
	names := func(ifs []net.Interface) []string {
		var out []string
		for _, ifi := range ifs {
			out = append(out, ifi.Name)
		}
		return out
	}

	got, err := chooseInterfaces(all, nil, v4)
	if err != nil {
		t.Fatalf("automatic: %v", err)
	}
	if want := []string{"wlan0", "docker0"}; !slices.Equal(names(got), want) {
		t.Errorf("automatic picked %v, want %v", names(got), want)
	}

	got, err = chooseInterfaces(all, []string{"docker0", "lomc", "docker0", "nov4"}, v4)
	if err != nil {
		t.Fatalf("named: %v", err)
	}
	if want := []string{"docker0", "lomc", "nov4"}; !slices.Equal(names(got), want) {
		t.Errorf("named picked %v, want %v", names(got), want)
	}

	for _, tt := range []struct {
		name    string
		wantErr error
		say     string
	}{
		{"eth9", ErrUnknownInterface, `mdns interface "eth9": no such network interface (have lo, wlan0,`},
		{"down0", ErrUnusableInterface, "down"},
		{"wg0", ErrUnusableInterface, "not multicast-capable"},
		{"lo", ErrUnusableInterface, "not multicast-capable"},
	} {
		_, err := chooseInterfaces(all, []string{"wlan0", tt.name}, v4)
		if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.say) {
			t.Errorf("%s: err = %v, want %v saying %q", tt.name, err, tt.wantErr, tt.say)
		}
	}

	if _, err := chooseInterfaces(all[:1], nil, v4); !errors.Is(err, ErrNoInterfaces) {
		t.Errorf("only loopback: err = %v, want ErrNoInterfaces", err)
	}
}

// TestNewRejectsUnknownInterface reads the system's interface list only; it
// sends nothing.
func TestNewRejectsUnknownInterface(t *testing.T) {
	_, err := New(Config{
		Self:       testPeerID(t, 1),
		Hint:       "h",
		Addrs:      func() []ma.Multiaddr { return nil },
		Interfaces: []string{"nosuchif0"},
	}, func(peer.AddrInfo) {})
	if !errors.Is(err, ErrUnknownInterface) || !strings.Contains(err.Error(), `"nosuchif0"`) {
		t.Fatalf("New = %v, want ErrUnknownInterface naming the interface", err)
	}
}
