// Package crdt holds syncnode's pure replicated data types: the hybrid
// logical clock, record versions, last-writer-wins merge, version vectors and
// the order-independent state digest. It performs no I/O, starts no
// goroutines and never reads the wall clock; callers inject time.
package crdt
