package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileRoundTrip(t *testing.T) {
	d := mustInit(t, nil)
	for _, content := range []string{"first\n", "second, longer content\n", ""} {
		if err := d.WriteFile("peers", []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := d.ReadFile("peers")
		if err != nil || string(got) != content {
			t.Fatalf("ReadFile = %q, %v; want %q", got, err, content)
		}
	}
	if m := mode(t, filepath.Join(d.Path, "peers")); m != 0o600 {
		t.Errorf("peers mode %o, want 600", m)
	}
	for _, name := range entries(t, d.Path) {
		if strings.HasPrefix(name, ".") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
}

// TestWriteFileReplacesWiderMode shows a rewrite restores the private mode
// of a file someone loosened.
func TestWriteFileReplacesWiderMode(t *testing.T) {
	d := mustInit(t, nil)
	path := filepath.Join(d.Path, "peers")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteFile("peers", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode after rewrite %o, want 600", m)
	}
}

// TestFailedWriteLeavesNothing makes the final rename fail (the target is a
// directory) and checks the temporary file is gone.
func TestFailedWriteLeavesNothing(t *testing.T) {
	d := mustInit(t, nil)
	if err := os.Mkdir(filepath.Join(d.Path, "taken"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := strings.Join(entries(t, d.Path), " ")
	if err := d.WriteFile("taken", []byte("data")); err == nil {
		t.Fatal("WriteFile over a directory succeeded")
	}
	if after := strings.Join(entries(t, d.Path), " "); after != before {
		t.Errorf("failed write changed the dir: %q, was %q", after, before)
	}
}

func TestReadMissingFile(t *testing.T) {
	d := mustInit(t, nil)
	if _, err := d.ReadFile("peers"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) error = %v, want fs.ErrNotExist", err)
	}
}

func TestBadFileNames(t *testing.T) {
	d := mustInit(t, nil)
	for _, name := range []string{"", ".", "..", "../escape", "sub/file", `a\b`, ".hidden", "/abs"} {
		if err := d.WriteFile(name, []byte("x")); !errors.Is(err, ErrBadFileName) {
			t.Errorf("WriteFile(%q) error = %v, want ErrBadFileName", name, err)
		}
		if _, err := d.ReadFile(name); !errors.Is(err, ErrBadFileName) {
			t.Errorf("ReadFile(%q) error = %v, want ErrBadFileName", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(d.Path), "escape")); err == nil {
		t.Error("a write escaped the data dir")
	}
}

func TestAPIAddr(t *testing.T) {
	d := mustInit(t, nil)
	_, err := d.APIAddr()
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "syncnode run") {
		t.Fatalf("APIAddr() before a node runs: %v, want ErrNotRunning suggesting `syncnode run`", err)
	}
	if err := d.WriteAPIAddr("127.0.0.1:7070"); err != nil {
		t.Fatal(err)
	}
	if got, err := d.APIAddr(); err != nil || got != "127.0.0.1:7070" {
		t.Errorf("APIAddr() = %q, %v", got, err)
	}
	if m := mode(t, filepath.Join(d.Path, APIAddrFile)); m != 0o600 {
		t.Errorf("api-addr mode %o, want 600", m)
	}
	raw, _ := os.ReadFile(filepath.Join(d.Path, APIAddrFile))
	if strings.TrimSpace(string(raw)) != "127.0.0.1:7070" {
		t.Errorf("api-addr holds %q; scripts expect host:port", raw)
	}
	if err := d.RemoveAPIAddr(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.APIAddr(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("APIAddr() after removal: %v, want ErrNotRunning", err)
	}
	if err := d.RemoveAPIAddr(); err != nil {
		t.Errorf("second RemoveAPIAddr: %v", err)
	}
}

func TestAPIAddrRejectsGarbage(t *testing.T) {
	d := mustInit(t, nil)
	if err := d.WriteAPIAddr("no-port"); err == nil {
		t.Error("WriteAPIAddr accepted an address without a port")
	}
	if err := os.WriteFile(filepath.Join(d.Path, APIAddrFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.APIAddr(); err == nil || errors.Is(err, ErrNotRunning) {
		t.Errorf("APIAddr() with a garbage file: %v, want a parse error", err)
	}
}
