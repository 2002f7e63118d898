// Package antientropy implements syncnode's pull protocol: an initiator sends
// its version vector, the responder streams every record above it from one
// consistent snapshot in bounded batches and then its own vector, which the
// initiator joins once everything has been merged.
package antientropy
