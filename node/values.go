package node

import (
	"fmt"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/store"
)

// SealWith returns the store's Seal option for a device holding the group's
// value key: values in encrypted namespaces are sealed, bound to their
// version, before they are stored or sent anywhere.
func SealWith(key *seal.Key) func(ns, k string, v crdt.Version, value []byte) ([]byte, error) {
	return func(ns, k string, v crdt.Version, value []byte) ([]byte, error) {
		if !seal.Encrypted(ns) {
			return value, nil
		}
		return key.Seal(ns, k, v, value)
	}
}

// open returns rec with its value opened, if the node holds the value key
// and the value is sealed. Without the key (a relay) values stay as stored.
func (n *Node) open(rec crdt.Record) (crdt.Record, error) {
	if n.cfg.ValueKey == nil || rec.Deleted || !seal.IsSealed(rec.Value) {
		return rec, nil
	}
	plain, err := n.cfg.ValueKey.Open(rec)
	if err != nil {
		return rec, fmt.Errorf("node read: %w", err)
	}
	rec.Value = plain
	return rec, nil
}

// Get reads the current record of a key, deleted or not, with its value
// opened.
func (n *Node) Get(ns, key string) (crdt.Record, error) {
	rec, err := n.store.Get(ns, key)
	if err != nil {
		return rec, err
	}
	return n.open(rec)
}

// List reads live records of a namespace in key order, values opened.
func (n *Node) List(ns, prefix, after string, limit int) ([]crdt.Record, bool, error) {
	recs, more, err := n.store.List(ns, prefix, after, limit)
	if err != nil {
		return nil, false, err
	}
	for i := range recs {
		if recs[i], err = n.open(recs[i]); err != nil {
			return nil, false, err
		}
	}
	return recs, more, nil
}

// Changes reads the change feed after since, values opened. Without a
// namespace it leaves out syncnode's own (membership records): a client
// watching everything wants its data; it can still ask for those by name.
// It reads on past them, so a page is short only at the feed's end, which
// is how clients tell that they have caught up.
func (n *Node) Changes(since uint64, ns string, limit int) ([]store.Change, uint64, error) {
	out := make([]store.Change, 0, min(limit, 256))
	for len(out) < limit {
		want := limit - len(out)
		page, next, err := n.store.Changes(since, ns, want)
		if err != nil {
			return nil, since, err
		}
		for _, c := range page {
			if ns == "" && crdt.IsSystemNamespace(c.Record.NS) {
				continue
			}
			if c.Record, err = n.open(c.Record); err != nil {
				return nil, since, err
			}
			out = append(out, c)
		}
		since = next
		if len(page) < want {
			break
		}
	}
	return out, since, nil
}
