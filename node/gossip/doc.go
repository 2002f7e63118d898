// Package gossip pushes committed local writes to the group over GossipSub
// and merges the writes peers push: signed, validated, batched deltas. It is
// the fast, lossy half of sync; anti-entropy repairs whatever it loses.
package gossip
