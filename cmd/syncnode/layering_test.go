package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/syncnode/syncnode"

// layer ranks the top-level packages; DESIGN §2: dependencies point one way,
// cmd → testnet → relay → node → store → crdt.
var layer = map[string]int{"crdt": 0, "store": 1, "node": 2, "relay": 3, "testnet": 4, "cmd": 5}

type goPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func topLevel(importPath string) (string, bool) {
	rest, ok := strings.CutPrefix(importPath, module+"/")
	if !ok {
		return "", false
	}
	top, _, _ := strings.Cut(rest, "/")
	return top, true
}

// TestLayering fails when a package imports one from a layer above it.
func TestLayering(t *testing.T) {
	for _, p := range listPackages(t) {
		from, _ := topLevel(p.ImportPath)
		for _, imp := range p.Imports {
			to, ok := topLevel(imp)
			if ok && layer[to] > layer[from] {
				t.Errorf("%s imports %s: %s may not depend on %s", p.ImportPath, imp, from, to)
			}
		}
	}
}

// TestPureCore fails when crdt reaches storage, networking or another
// project package, even indirectly, and when store reaches networking.
func TestPureCore(t *testing.T) {
	forbidden := map[string][]string{
		"crdt":  {module + "/", "github.com/dgraph-io/", "github.com/libp2p/", "net/http", "os/exec"},
		"store": {module + "/node", module + "/relay", module + "/testnet", "github.com/libp2p/"},
	}
	for _, p := range listPackages(t) {
		top, _ := topLevel(p.ImportPath)
		for _, dep := range p.Deps {
			for _, bad := range forbidden[top] {
				if strings.HasPrefix(dep, bad) && !strings.HasPrefix(dep, module+"/"+top) {
					t.Errorf("%s depends on %s", p.ImportPath, dep)
				}
			}
		}
	}
}
