package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
)

// ErrNotRunning is returned by APIAddr when no node has written its address.
var ErrNotRunning = errors.New("no running node found: start one with `syncnode run`")

// WriteAPIAddr records the host:port the running node's API listens on, so
// that client commands and scripts can find it.
func (d *Dir) WriteAPIAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("datadir write api addr: %w", err)
	}
	if err := writeAtomic(d.Path, APIAddrFile, []byte(addr+"\n"), false); err != nil {
		return fmt.Errorf("datadir write api addr: %w", err)
	}
	return nil
}

// RemoveAPIAddr removes the API address, as a node does when it stops. It
// is not an error if there is none.
func (d *Dir) RemoveAPIAddr() error {
	err := os.Remove(d.file(APIAddrFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = syncDir(d.Path)
	}
	if err != nil {
		return fmt.Errorf("datadir remove api addr: %w", err)
	}
	return nil
}

// APIAddr returns the running node's API host:port, or ErrNotRunning. A node
// that crashed may have left a stale address behind, so a caller that cannot
// connect should say so rather than assume the node is up.
func (d *Dir) APIAddr() (string, error) {
	raw, err := d.read(APIAddrFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("datadir %s: %w", d.Path, ErrNotRunning)
	}
	if err != nil {
		return "", fmt.Errorf("datadir api addr: %w", err)
	}
	addr := strings.TrimSpace(string(raw))
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("datadir api addr %s: %w", d.file(APIAddrFile), err)
	}
	return addr, nil
}
