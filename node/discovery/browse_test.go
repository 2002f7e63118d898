package discovery

import (
	"net"
	"slices"
	"testing"

	"github.com/hashicorp/mdns"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestClassify(t *testing.T) {
	self, other := testPeerID(t, 1), testPeerID(t, 2)
	const hint = "group"
	txt := func(id peer.ID, hint string, addrs ...string) []string {
		return encodeTXT(txtRecord{ID: id, Hint: hint, Addrs: mustAddrs(t, addrs...)})
	}
	tests := []struct {
		name       string
		entry      mdns.ServiceEntry
		loopbackOK bool
		want       verdict
		wantAddrs  []string
	}{
		{
			name:      "peer of the group",
			entry:     mdns.ServiceEntry{InfoFields: txt(other, hint, "/ip4/10.0.0.2/tcp/4001"), AddrV4: net.IPv4(10, 0, 0, 2), Port: 4001},
			want:      verdictPeer,
			wantAddrs: []string{"/ip4/10.0.0.2/tcp/4001"},
		},
		{
			name:  "ourselves",
			entry: mdns.ServiceEntry{InfoFields: txt(self, hint, "/ip4/10.0.0.1/tcp/4001")},
			want:  verdictSelf,
		},
		{
			name:  "another group",
			entry: mdns.ServiceEntry{InfoFields: txt(other, "other", "/ip4/10.0.0.2/tcp/4001")},
			want:  verdictOtherGroup,
		},
		{
			name:  "hint differs only in case",
			entry: mdns.ServiceEntry{InfoFields: txt(other, "GROUP", "/ip4/10.0.0.2/tcp/4001")},
			want:  verdictOtherGroup,
		},
		{
			name:  "no peer id",
			entry: mdns.ServiceEntry{InfoFields: []string{"g=" + hint, "a=/ip4/10.0.0.2/tcp/4001"}},
			want:  verdictMalformed,
		},
		{
			name:  "not a syncnode TXT at all",
			entry: mdns.ServiceEntry{InfoFields: []string{"path=/"}, AddrV4: net.IPv4(10, 0, 0, 2), Port: 80},
			want:  verdictMalformed,
		},
		{
			name:      "no TXT addresses: A record and SRV port as TCP",
			entry:     mdns.ServiceEntry{InfoFields: txt(other, hint), AddrV4: net.IPv4(10, 0, 0, 2), Port: 4001},
			want:      verdictPeer,
			wantAddrs: []string{"/ip4/10.0.0.2/tcp/4001"},
		},
		{
			name:  "loopback address from the LAN",
			entry: mdns.ServiceEntry{InfoFields: txt(other, hint, "/ip4/127.0.0.1/tcp/22"), AddrV4: net.IPv4(127, 0, 0, 1), Port: 22},
			want:  verdictMalformed,
		},
		{
			name:       "loopback address over loopback",
			entry:      mdns.ServiceEntry{InfoFields: txt(other, hint, "/ip4/127.0.0.1/tcp/4001")},
			loopbackOK: true,
			want:       verdictPeer,
			wantAddrs:  []string{"/ip4/127.0.0.1/tcp/4001"},
		},
		{
			name:      "undialable TXT addresses dropped, others kept",
			entry:     mdns.ServiceEntry{InfoFields: txt(other, hint, "/ip4/127.0.0.1/tcp/4001", "/ip4/0.0.0.0/tcp/4001", "/ip4/10.0.0.2/tcp/4001")},
			want:      verdictPeer,
			wantAddrs: []string{"/ip4/10.0.0.2/tcp/4001"},
		},
		{
			name:  "nothing to dial",
			entry: mdns.ServiceEntry{InfoFields: txt(other, hint)},
			want:  verdictMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ai, v := classify(&tt.entry, self, hint, tt.loopbackOK)
			if v != tt.want {
				t.Fatalf("verdict = %d, want %d", v, tt.want)
			}
			if v != verdictPeer {
				return
			}
			if ai.ID != other {
				t.Errorf("id = %s, want %s", ai.ID, other)
			}
			if got := addrStrings(ai.Addrs); !slices.Equal(got, tt.wantAddrs) {
				t.Errorf("addrs = %v, want %v", got, tt.wantAddrs)
			}
		})
	}
}

func TestMergePeers(t *testing.T) {
	a, b := testPeerID(t, 1), testPeerID(t, 2)
	got := mergePeers([]peer.AddrInfo{
		{ID: b, Addrs: mustAddrs(t, "/ip4/10.0.0.2/tcp/1")},
		{ID: a, Addrs: mustAddrs(t, "/ip4/10.0.0.1/tcp/1")},
		{ID: b, Addrs: mustAddrs(t, "/ip4/10.0.0.2/tcp/1", "/ip4/192.168.0.2/tcp/1")},
	})
	if len(got) != 2 {
		t.Fatalf("merged into %d peers, want 2: %v", len(got), got)
	}
	first, second := got[0], got[1]
	if first.ID > second.ID {
		t.Fatalf("not sorted by id: %v", got)
	}
	if first.ID != b {
		first, second = second, first
	}
	if got, want := addrStrings(first.Addrs), []string{"/ip4/10.0.0.2/tcp/1", "/ip4/192.168.0.2/tcp/1"}; !slices.Equal(got, want) {
		t.Errorf("b's addrs = %v, want %v", got, want)
	}
	if got, want := addrStrings(second.Addrs), []string{"/ip4/10.0.0.1/tcp/1"}; !slices.Equal(got, want) {
		t.Errorf("a's addrs = %v, want %v", got, want)
	}
}
