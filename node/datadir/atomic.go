package datadir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Modes of everything in the data directory: private to the user.
const (
	fileMode fs.FileMode = 0o600
	dirMode  fs.FileMode = 0o700
)

// MaxFileSize bounds every file read from the data directory, so that a
// corrupted or replaced file cannot exhaust memory.
const MaxFileSize = 1 << 20

// tempPrefix starts the name of every temporary file; file names handed to
// WriteFile may not start with it, so temporaries never collide with them.
const tempPrefix = "."

// ErrBadFileName is returned by ReadFile and WriteFile for a name that is not
// a plain file name inside the data directory.
var ErrBadFileName = errors.New("not a plain file name")

// checkName accepts only plain, non-hidden file names, so that a name can
// neither escape the directory nor collide with temporary files.
func checkName(name string) error {
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) ||
		strings.HasPrefix(name, tempPrefix) {
		return fmt.Errorf("%q: %w", name, ErrBadFileName)
	}
	return nil
}

// writeAtomic replaces dir/name with data so that readers see either the old
// content or the new one, never a mix, even across a crash: the data goes to
// a temporary file that is synced, then renamed over the target, then the
// directory is synced. With exclusive set, it fails with fs.ErrExist instead
// of replacing an existing file.
func writeAtomic(dir, name string, data []byte, exclusive bool) (err error) {
	tmp, err := os.CreateTemp(dir, tempPrefix+name+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(fileMode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	target := filepath.Join(dir, name)
	if exclusive {
		// A hard link, unlike rename, refuses to replace the target.
		if err := os.Link(tmp.Name(), target); err != nil {
			return err
		}
		if err := os.Remove(tmp.Name()); err != nil {
			return err
		}
	} else if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the directory's entries durable (a rename or removal).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readBounded reads a whole file of at most MaxFileSize bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}
