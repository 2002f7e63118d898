package main

import (
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node/datadir"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a data dir: device identity, a new group secret, an API token",
		ArgsUsage: " ",
		Flags:     []cli.Flag{dataFlag(), jsonFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("syncnode init [--data DIR]")
			}
			path, err := dataPath(c)
			if err != nil {
				return err
			}
			dir, err := datadir.Init(path, nil)
			if err != nil {
				return err
			}
			id, err := deviceID(dir)
			if err != nil {
				return err
			}
			res := struct {
				ID   string `json:"id"`
				Data string `json:"data"`
			}{id.String(), dir.Path}
			return out(c).result(res, func(w io.Writer) {
				fmt.Fprintf(w, "initialized %s\ndevice %s\nstart it with: syncnode run --data %s\n", dir.Path, id, dir.Path)
			})
		},
	}
}

// deviceID is the peer ID of the data dir's identity key.
func deviceID(dir *datadir.Dir) (peer.ID, error) {
	key, err := dir.Identity()
	if err != nil {
		return "", err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("device identity: %w", err)
	}
	return id, nil
}
