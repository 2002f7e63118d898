package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/node/client"
	"github.com/syncnode/syncnode/node/datadir"
)

// connect finds the running node through the data dir: its token from
// api-token and, unless --api is given, its address from api-addr.
func connect(c *cli.Context) (*client.Client, error) {
	dir, err := openDataDir(c)
	if err != nil {
		return nil, err
	}
	token, err := dir.Token()
	if err != nil {
		return nil, err
	}
	addr, from := c.String("api"), "--api"
	if addr == "" {
		if addr, err = dir.APIAddr(); err != nil {
			return nil, err
		}
		from = dir.Path + "/" + datadir.APIAddrFile
	}
	cl := client.New(addr, token)
	// A node killed with -9 leaves api-addr behind; say so plainly rather
	// than "connection refused" from deep inside the first request.
	if err := cl.Healthz(c.Context); err != nil {
		return nil, fmt.Errorf("no node answers at %s (from %s); is `syncnode run` running? %w", addr, from, err)
	}
	return cl, nil
}

// clientFlags are the flags of every command that talks to a running node.
func clientFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{dataFlag(), jsonFlag(), apiFlag()}, extra...)
}

// openDataDir opens the initialized data dir of --data.
func openDataDir(c *cli.Context) (*datadir.Dir, error) {
	path, err := dataPath(c)
	if err != nil {
		return nil, err
	}
	return datadir.Open(path)
}
