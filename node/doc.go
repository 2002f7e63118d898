// Package node runs one syncnode device: it wires the store to a libp2p host,
// GossipSub push, anti-entropy pull, mDNS discovery and the local HTTP API,
// and decides when to sync with whom.
package node
