package testnet

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node"
)

const (
	// readPage is how many records one store.Changes call reads.
	readPage = 1024
	// maxDiffLines bounds the differences a diff lists.
	maxDiffLines = 8
)

// entry is one current record as compared across replicas; the value is
// hashed so a large replica need not be held in memory several times.
type entry struct {
	ns, key string
	deleted bool
	version crdt.Version
	value   [sha256.Size]byte
}

func (e entry) String() string {
	state := fmt.Sprintf("value %x", e.value[:4])
	if e.deleted {
		state = "deleted"
	}
	return fmt.Sprintf("%s/%s %s version %s", e.ns, e.key, state, e.version)
}

// Converged reports whether every running node holds exactly the same
// records: all state digests equal and, record by record, the same
// namespaces, keys, values, tombstones and versions. When they differ, diff
// says how; it also reports a replica that could not be read.
func (n *Net) Converged(ctx context.Context) (bool, string) {
	idx, nodes := n.running()
	if len(nodes) == 0 {
		return false, "no node is running"
	}
	same, diff := compareContent(ctx, idx, nodes)
	if digestsEqual(nodes) {
		return same, diff
	}
	var b strings.Builder
	b.WriteString("state digests differ (")
	for k, nd := range nodes {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "node %d %.12s", idx[k], nd.Store().Digest())
	}
	b.WriteString("): ")
	if same {
		diff = "yet the records are the same"
	}
	return false, b.String() + diff
}

// WaitConverged polls until Converged holds or ctx ends, and returns how
// long that took. The time is taken when the digests first matched, before
// the full content comparison that confirms it, so the comparison's own
// cost is not counted. On timeout the error says what still differed.
func (n *Net) WaitConverged(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var took time.Duration
	var diff string
	err := poll(ctx, func() bool {
		_, nodes := n.running()
		if len(nodes) == 0 || !digestsEqual(nodes) {
			return false
		}
		took = time.Since(start)
		var ok bool
		ok, diff = n.Converged(ctx)
		return ok
	})
	if err != nil {
		if _, last := n.Converged(context.WithoutCancel(ctx)); last != "" {
			diff = last
		}
		return time.Since(start), fmt.Errorf("testnet: not converged after %s: %s: %w", time.Since(start).Round(time.Millisecond), diff, err)
	}
	return took, nil
}

func digestsEqual(nodes []*node.Node) bool {
	d := nodes[0].Store().Digest()
	for _, nd := range nodes[1:] {
		if nd.Store().Digest() != d {
			return false
		}
	}
	return true
}

// compareContent reads every replica in full and compares each with the
// first.
func compareContent(ctx context.Context, idx []int, nodes []*node.Node) (bool, string) {
	ref, err := readAll(ctx, nodes[0])
	if err != nil {
		return false, fmt.Sprintf("node %d: %v", idx[0], err)
	}
	var diffs []string
	for k, nd := range nodes[1:] {
		got, err := readAll(ctx, nd)
		if err != nil {
			return false, fmt.Sprintf("node %d: %v", idx[k+1], err)
		}
		diffs = append(diffs, diffEntries(idx[0], ref, idx[k+1], got)...)
	}
	if len(diffs) == 0 {
		return true, ""
	}
	if len(diffs) > maxDiffLines {
		diffs = append(diffs[:maxDiffLines], fmt.Sprintf("and %d more", len(diffs)-maxDiffLines))
	}
	return false, strings.Join(diffs, "; ")
}

// readAll returns every current record of nd, tombstones included, sorted
// by namespace and key.
func readAll(ctx context.Context, nd *node.Node) ([]entry, error) {
	var out []entry
	var since uint64
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, next, err := nd.Store().Changes(since, "", readPage)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			r := c.Record
			out = append(out, entry{ns: r.NS, key: r.Key, deleted: r.Deleted, version: r.Version, value: sha256.Sum256(r.Value)})
		}
		if len(page) < readPage {
			break
		}
		since = next
	}
	// A key changed while being read moves to a later feed position and is
	// read twice; the later reading is the newer one, so keep it.
	slices.SortStableFunc(out, compareKeys)
	keep := out[:0]
	for _, e := range out {
		if len(keep) > 0 && compareKeys(keep[len(keep)-1], e) == 0 {
			keep[len(keep)-1] = e
			continue
		}
		keep = append(keep, e)
	}
	return keep, nil
}

func compareKeys(a, b entry) int {
	return cmp.Or(cmp.Compare(a.ns, b.ns), cmp.Compare(a.key, b.key))
}

// diffEntries lists how replica b (node j) differs from replica a (node i).
func diffEntries(i int, a []entry, j int, b []entry) []string {
	var out []string
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || len(a) > 0 && compareKeys(a[0], b[0]) < 0:
			out = append(out, fmt.Sprintf("node %d lacks %s held by node %d", j, a[0], i))
			a = a[1:]
		case len(a) == 0 || compareKeys(a[0], b[0]) > 0:
			out = append(out, fmt.Sprintf("node %d lacks %s held by node %d", i, b[0], j))
			b = b[1:]
		default:
			if a[0] != b[0] {
				out = append(out, fmt.Sprintf("node %d has %s, node %d has %s", i, a[0], j, b[0]))
			}
			a, b = a[1:], b[1:]
		}
	}
	return out
}
