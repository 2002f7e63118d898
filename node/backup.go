package node

import "io"

// Backup writes a consistent full backup of the node's store to w and
// returns the bytes written; `syncnode restore` loads it.
func (n *Node) Backup(w io.Writer) (int64, error) { return n.store.Backup(w) }
