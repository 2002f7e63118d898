// Package discovery finds the group's peers on the local network with mDNS:
// it advertises _syncnode._udp with the device's peer ID, group hint and
// listen addresses, and browses for other devices that carry the same hint.
package discovery
