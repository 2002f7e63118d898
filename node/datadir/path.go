package datadir

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvData names the environment variable that overrides the default data
// directory.
const EnvData = "SYNCNODE_DATA"

// DefaultPath returns $SYNCNODE_DATA if it is set, else
// ~/.local/share/syncnode.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvData); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("datadir default path: set $%s or $HOME: %w", EnvData, err)
	}
	return filepath.Join(home, ".local", "share", "syncnode"), nil
}

// resolve turns an empty path into DefaultPath.
func resolve(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	return DefaultPath()
}
