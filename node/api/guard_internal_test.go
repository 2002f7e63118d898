package api

import "testing"

func TestHostPolicy(t *testing.T) {
	cases := []struct {
		listen string
		allow  []string
		deny   []string
	}{
		{
			listen: "127.0.0.1:8080",
			allow:  []string{"127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "127.0.0.2:8080"},
			deny:   []string{"", "evil.example:8080", "localhost:9090", "127.0.0.1", "localhost", "10.0.0.1:8080", "sub.localhost:8080", "localhost.:8080"},
		},
		{
			listen: "[::1]:7000",
			allow:  []string{"[::1]:7000", "localhost:7000", "127.0.0.1:7000"},
			deny:   []string{"[::1]:7001", "evil.example:7000"},
		},
		{
			listen: "localhost:7000",
			allow:  []string{"localhost:7000", "127.0.0.1:7000"},
			deny:   []string{"evil.example:7000"},
		},
		{
			listen: "0.0.0.0:8080",
			allow:  []string{"0.0.0.0:8080", "192.168.1.5:8080", "10.0.0.1", "[fe80::1]:8080", "[2001:db8::1]"},
			deny:   []string{"evil.example:8080", "nas.local:8080", "localhost:8080", "[fe80::1%25eth0]:8080", "::1"},
		},
		{
			listen: "nas.lan:8080",
			allow:  []string{"nas.lan:8080", "NAS.LAN:8080", "192.168.1.5:8080"},
			deny:   []string{"nas.lan:9090", "evil.example:8080"},
		},
	}
	for _, c := range cases {
		p, err := newHostPolicy(c.listen)
		if err != nil {
			t.Fatalf("policy %s: %v", c.listen, err)
		}
		for _, h := range c.allow {
			if !p.allows(h) {
				t.Errorf("listening on %s: Host %q refused", c.listen, h)
			}
		}
		for _, h := range c.deny {
			if p.allows(h) {
				t.Errorf("listening on %s: Host %q allowed", c.listen, h)
			}
		}
	}
}
