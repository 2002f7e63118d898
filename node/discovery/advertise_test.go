package discovery

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestAdvertisement(t *testing.T) {
	self := testPeerID(t, 1)
	ips := []net.IP{net.ParseIP("10.0.0.5").To4()}
	listen := mustAddrs(t, "/ip4/0.0.0.0/udp/5000/quic-v1", "/ip4/0.0.0.0/tcp/4001", "/ip4/127.0.0.1/tcp/4001")
	svc, err := advertisement(self, "hint", 7, ips, listen)
	if err != nil || svc == nil {
		t.Fatalf("advertisement = %v, %v", svc, err)
	}
	z := &zone{}
	z.set(svc)
	rrs := z.Records(dns.Question{Name: ServiceName + "." + Domain, Qtype: dns.TypePTR, Qclass: dns.ClassINET})
	var (
		srv *dns.SRV
		a   []string
		txt []string
	)
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.SRV:
			srv = rr
		case *dns.A:
			a = append(a, rr.A.String())
		case *dns.TXT:
			txt = rr.Txt
		}
	}
	if srv == nil || srv.Port != 4001 {
		t.Fatalf("SRV = %v, want port 4001, the TCP port", srv)
	}
	if !slices.Equal(a, []string{"10.0.0.5"}) {
		t.Errorf("A records = %v, want only the interface's address", a)
	}
	rec, err := parseTXT(txt)
	if err != nil {
		t.Fatalf("parse advertised TXT %q: %v", txt, err)
	}
	if rec.ID != self || rec.Hint != "hint" {
		t.Errorf("TXT = %+v", rec)
	}
	if got, want := addrStrings(rec.Addrs), []string{"/ip4/10.0.0.5/udp/5000/quic-v1", "/ip4/10.0.0.5/tcp/4001"}; !slices.Equal(got, want) {
		t.Errorf("TXT addrs = %v, want %v", got, want)
	}
	if !strings.HasPrefix(srv.Hdr.Name, instanceName(self, 7)+".") {
		t.Errorf("instance %q, want %q", srv.Hdr.Name, instanceName(self, 7))
	}

	// An interface none of the listen addresses reach advertises nothing,
	// and its zone answers nothing.
	svc, err = advertisement(self, "hint", 8, []net.IP{net.ParseIP("192.168.9.9").To4()}, mustAddrs(t, "/ip4/10.0.0.5/tcp/4001"))
	if err != nil || svc != nil {
		t.Fatalf("advertisement on an unreached interface = %v, %v; want nil", svc, err)
	}
	z.set(svc)
	if rrs := z.Records(dns.Question{Name: ServiceName + "." + Domain, Qtype: dns.TypePTR}); len(rrs) != 0 {
		t.Errorf("withdrawn zone answered %v", rrs)
	}
}

func TestInstanceNameFitsALabel(t *testing.T) {
	self := testPeerID(t, 1)
	a, b := instanceName(self, 1), instanceName(self, 2147483647)
	if len(b) > maxLabel || a == b {
		t.Fatalf("names %q and %q: want distinct, at most %d bytes", a, b, maxLabel)
	}
	if !strings.HasSuffix(b, "-2147483647") {
		t.Errorf("name %q lost its interface index", b)
	}
}
