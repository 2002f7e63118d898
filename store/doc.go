// Package store keeps a node's replicated records in Badger: the records
// themselves, a per-origin index of current versions for anti-entropy, the
// contiguous version vector, the clock's high-water mark, the state digest
// and a local change feed. Every mutation goes through one group-commit loop,
// so merge's read-modify-write happens inside a single transaction and
// concurrent writers share fsyncs.
package store
