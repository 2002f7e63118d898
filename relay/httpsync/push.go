package httpsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// toWrite checks one pushed change and turns it into a store write, with
// its value compacted so that a retry differing only in whitespace is
// still a no-op. An error is this change's rejection alone.
func toWrite(p Push) (store.Write, error) {
	if err := crdt.ValidateNamespace(p.NS); err != nil {
		return store.Write{}, err
	}
	if crdt.IsSystemNamespace(p.NS) {
		return store.Write{}, fmt.Errorf("%w: namespace %q is reserved for syncnode", crdt.ErrInvalid, p.NS)
	}
	if err := crdt.ValidateKey(p.Key); err != nil {
		return store.Write{}, err
	}
	w := store.Write{NS: p.NS, Key: p.Key, Deleted: p.Deleted}
	if p.HLC != "" {
		hlc, err := crdt.ParseTimestamp(p.HLC)
		if err != nil || hlc == 0 {
			return store.Write{}, fmt.Errorf("%w: hlc %q is not a positive decimal uint64", crdt.ErrInvalid, p.HLC)
		}
		w.HLC = hlc
	}
	switch {
	case p.Deleted && len(p.Value) > 0:
		return store.Write{}, fmt.Errorf("%w: a deleted change carries no value", crdt.ErrInvalid)
	case p.Deleted:
		return w, nil
	case len(p.Value) == 0:
		return store.Write{}, fmt.Errorf("%w: value is required unless deleted is true", crdt.ErrInvalid)
	}
	var compact bytes.Buffer
	compact.Grow(len(p.Value))
	if err := json.Compact(&compact, p.Value); err != nil {
		return store.Write{}, fmt.Errorf("%w: value is not valid JSON", crdt.ErrInvalid)
	}
	if err := crdt.ValidateValue(compact.Bytes()); err != nil {
		return store.Write{}, err
	}
	w.Value = compact.Bytes()
	return w, nil
}

// apply checks ps, writes the valid ones in one WriteAll, and returns the
// rejections in request order. The error return is a store failure, after
// which some writes may be applied: a retry is safe.
func apply(ctx context.Context, st Store, ps []Push) ([]Rejection, error) {
	refusals := make([]error, len(ps))
	writes := make([]store.Write, 0, len(ps))
	at := make([]int, 0, len(ps)) // at[j] is the index in ps of writes[j]
	for i, p := range ps {
		w, err := toWrite(p)
		if err != nil {
			refusals[i] = err
			continue
		}
		writes = append(writes, w)
		at = append(at, i)
	}
	if len(writes) > 0 {
		results, err := st.WriteAll(ctx, writes)
		if err != nil {
			return nil, fmt.Errorf("sync write: %w", err)
		}
		for j, res := range results {
			refusals[at[j]] = res.Err
		}
	}
	rejected := []Rejection{}
	for i, err := range refusals {
		if err != nil {
			rejected = append(rejected, Rejection{Index: i, NS: ps[i].NS, Key: ps[i].Key, Reason: err.Error()})
		}
	}
	return rejected, nil
}
