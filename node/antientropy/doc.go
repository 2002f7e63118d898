// Package antientropy implements syncnode's pull protocol: an initiator sends
// its version vector, and the writes it holds beyond gaps in it, the
// responder streams every record above the vector and not held from one
// consistent snapshot in bounded batches and then its own vector, which the
// initiator joins once everything has been merged.
package antientropy
