// Package p2p builds the libp2p host a node runs on: TCP with Noise and
// yamux, inside the group's private network, with bounded resources.
package p2p
