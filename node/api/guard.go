package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// authorized reports whether r carries the bearer token. Comparing digests
// keeps the comparison constant-time in the token's length too.
func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// hostPolicy decides which Host headers the API answers. A DNS-rebinding
// page reaches the API under the attacker's host name, so only the names
// the listener is really known by pass: the listen address itself, the
// loopback names when listening on loopback, and IP literals when listening
// on a routable or unspecified address.
type hostPolicy struct {
	addr     string // the listen address, lower case
	port     string
	loopback bool
}

func newHostPolicy(addr string) (hostPolicy, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return hostPolicy{}, fmt.Errorf("listen address %q: %w", addr, err)
	}
	loopback := strings.EqualFold(host, "localhost")
	if ip, err := netip.ParseAddr(host); err == nil {
		loopback = ip.IsLoopback()
	}
	return hostPolicy{addr: strings.ToLower(addr), port: port, loopback: loopback}, nil
}

func (p hostPolicy) allows(hostport string) bool {
	hostport = strings.ToLower(hostport)
	if hostport == p.addr {
		return true
	}
	host, port, ok := splitHost(hostport)
	if !ok {
		return false
	}
	ip, err := netip.ParseAddr(host)
	isIP := err == nil && ip.Zone() == ""
	if p.loopback {
		return port == p.port && (host == "localhost" || isIP && ip.IsLoopback())
	}
	return isIP
}

// splitHost splits a Host header into host and port; without a port it is
// HTTP's default, 80.
func splitHost(hostport string) (host, port string, ok bool) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p, p != ""
	}
	if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		return hostport[1 : len(hostport)-1], "80", true
	}
	if hostport == "" || strings.Contains(hostport, ":") {
		return "", "", false
	}
	return hostport, "80", true
}
