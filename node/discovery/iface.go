package discovery

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

var (
	// ErrUnknownInterface reports an interface name the system does not have.
	ErrUnknownInterface = errors.New("no such network interface")
	// ErrUnusableInterface reports a named interface that is down or cannot
	// multicast.
	ErrUnusableInterface = errors.New("network interface cannot carry mDNS")
	// ErrNoInterfaces reports that no interface qualifies for mDNS.
	ErrNoInterfaces = errors.New("no multicast-capable network interface")
)

// systemInterfaces lists the interfaces for mDNS: the named ones, or every
// qualifying one when names is empty.
func systemInterfaces(names []string) ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	return chooseInterfaces(all, names, hasIPv4)
}

// chooseInterfaces resolves names against all. Named interfaces must exist,
// be up and be multicast-capable; loopback is allowed when named, which is
// how tests confine mDNS to a namespace's lo. With no names, it picks every
// interface that is up, multicast-capable and not loopback and for which
// hasIPv4 holds, since browsing runs over IPv4.
func chooseInterfaces(all []net.Interface, names []string, hasIPv4 func(net.Interface) bool) ([]net.Interface, error) {
	if len(names) == 0 {
		var out []net.Interface
		for _, ifi := range all {
			if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 &&
				ifi.Flags&net.FlagLoopback == 0 && hasIPv4(ifi) {
				out = append(out, ifi)
			}
		}
		if len(out) == 0 {
			return nil, ErrNoInterfaces
		}
		return out, nil
	}
	var out []net.Interface
	for _, name := range names {
		i := slices.IndexFunc(all, func(ifi net.Interface) bool { return ifi.Name == name })
		if i < 0 {
			have := make([]string, len(all))
			for j, ifi := range all {
				have[j] = ifi.Name
			}
			return nil, fmt.Errorf("mdns interface %q: %w (have %s)", name, ErrUnknownInterface, strings.Join(have, ", "))
		}
		ifi := all[i]
		switch {
		case ifi.Flags&net.FlagUp == 0:
			return nil, fmt.Errorf("mdns interface %q: %w: it is down", name, ErrUnusableInterface)
		case ifi.Flags&net.FlagMulticast == 0:
			return nil, fmt.Errorf("mdns interface %q: %w: it is not multicast-capable", name, ErrUnusableInterface)
		}
		if !slices.ContainsFunc(out, func(o net.Interface) bool { return o.Index == ifi.Index }) {
			out = append(out, ifi)
		}
	}
	return out, nil
}

// hasIPv4 reports whether ifi currently has an IPv4 address.
func hasIPv4(ifi net.Interface) bool {
	ips, err := interfaceIPs(&ifi)
	return err == nil && slices.ContainsFunc(ips, func(ip net.IP) bool { return ip.To4() != nil })
}

// interfaceIPs returns the addresses of ifi that a peer on its link can
// dial: IPv4 and non-link-local IPv6. Link-local IPv6 is left out because a
// multiaddr without a zone cannot be dialled.
func interfaceIPs(ifi *net.Interface) ([]net.IP, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", ifi.Name, err)
	}
	var ips []net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLinkLocalUnicast() || n.IP.IsMulticast() || n.IP.IsUnspecified() {
			continue
		}
		if ip4 := n.IP.To4(); ip4 != nil {
			ips = append(ips, ip4)
			continue
		}
		ips = append(ips, n.IP)
	}
	return ips, nil
}
