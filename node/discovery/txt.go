package discovery

import (
	"errors"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// TXT keys. RFC 6763 §6.4 makes keys case-insensitive, and unknown keys are
// ignored so that a later version can add fields without breaking browsers.
const (
	txtKeyID    = "id"
	txtKeyGroup = "g"
	txtKeyAddr  = "a"
)

const (
	// maxTXTString is the DNS limit on one TXT character-string.
	maxTXTString = 255
	// maxTXTAddrs bounds the addresses in one advertisement, which keeps
	// the answer far below a single Ethernet frame, and bounds what a
	// browser accepts from one entry.
	maxTXTAddrs = 8
)

// errMalformedTXT marks a TXT record that lacks a usable peer ID or group
// hint, or repeats one.
var errMalformedTXT = errors.New("malformed txt record")

// txtRecord is what one advertisement's TXT record carries.
type txtRecord struct {
	ID    peer.ID
	Hint  string
	Addrs []ma.Multiaddr
}

// encodeTXT renders r as TXT strings. Addresses beyond maxTXTAddrs, or too
// long for one string, are left out.
func encodeTXT(r txtRecord) []string {
	txt := []string{
		txtKeyID + "=" + r.ID.String(),
		txtKeyGroup + "=" + r.Hint,
	}
	n := 0
	for _, a := range r.Addrs {
		if n == maxTXTAddrs {
			break
		}
		s := txtKeyAddr + "=" + a.String()
		if len(s) > maxTXTString {
			continue
		}
		txt = append(txt, s)
		n++
	}
	return txt
}

// parseTXT reads a TXT record sent by any host on the LAN. It fails when the
// peer ID or group hint is missing, repeated or invalid. An address that does
// not parse is skipped rather than failing the record, so that a peer which
// advertises a transport this version does not know is still found; at most
// maxTXTAddrs addresses are kept.
func parseTXT(fields []string) (txtRecord, error) {
	var (
		r                txtRecord
		haveID, haveHint bool
	)
	for _, f := range fields {
		key, value, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(key) {
		case txtKeyID:
			if haveID {
				return txtRecord{}, fmt.Errorf("%w: repeated %q", errMalformedTXT, txtKeyID)
			}
			id, err := peer.Decode(value)
			if err != nil {
				return txtRecord{}, fmt.Errorf("%w: peer id: %w", errMalformedTXT, err)
			}
			r.ID, haveID = id, true
		case txtKeyGroup:
			if haveHint {
				return txtRecord{}, fmt.Errorf("%w: repeated %q", errMalformedTXT, txtKeyGroup)
			}
			if err := validateHint(value); err != nil {
				return txtRecord{}, fmt.Errorf("%w: %w", errMalformedTXT, err)
			}
			r.Hint, haveHint = value, true
		case txtKeyAddr:
			if len(r.Addrs) == maxTXTAddrs {
				continue
			}
			if a, err := ma.NewMultiaddr(value); err == nil {
				r.Addrs = append(r.Addrs, a)
			}
		}
	}
	if !haveID {
		return txtRecord{}, fmt.Errorf("%w: no %q", errMalformedTXT, txtKeyID)
	}
	if !haveHint {
		return txtRecord{}, fmt.Errorf("%w: no %q", errMalformedTXT, txtKeyGroup)
	}
	return r, nil
}
