package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/testnet"
)

// allScenarios asks testnet to run every scenario in turn.
const allScenarios = "all"

func testnetCommand() *cli.Command {
	return &cli.Command{
		Name:      "testnet",
		Usage:     "run N real nodes in this process through a scenario and report how they converge",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", EnvVars: env("nodes"), Value: 4, Usage: "number of nodes"},
			&cli.IntFlag{Name: "writes", EnvVars: env("writes"), Value: 1000, Usage: "number of writes (1 KiB values)"},
			&cli.StringFlag{Name: "scenario", EnvVars: env("scenario"), Value: "steady", Usage: "one of " + strings.Join(testnet.ScenarioNames(), ", ") + ", or " + allScenarios},
			&cli.StringFlag{Name: "transport", EnvVars: env("transport"), Value: string(testnet.Mocknet), Usage: "mocknet (in-process) or tcp (loopback)"},
			&cli.Int64Flag{Name: "seed", EnvVars: env("seed"), Value: 1, Usage: "seed for identities, keys, values and dropped messages"},
			jsonFlag(),
		},
		Action: func(c *cli.Context) error {
			usage := "syncnode testnet [--nodes N] [--writes W] [--scenario " + strings.Join(testnet.ScenarioNames(), "|") + "|" + allScenarios + "] [--transport mocknet|tcp] [--seed S]"
			if c.NArg() != 0 {
				return usagef("%s", usage)
			}
			names, err := scenarioNames(c.String("scenario"))
			if err != nil {
				return err
			}
			tr, err := testnet.ParseTransport(c.String("transport"))
			if err != nil {
				return usagef("--transport must be mocknet or tcp, not %q", c.String("transport"))
			}
			if c.Int("nodes") < 1 || c.Int("writes") < 1 {
				return usagef("--nodes and --writes must be at least 1")
			}
			opts := testnet.Options{Nodes: c.Int("nodes"), Transport: tr, Seed: c.Int64("seed")}
			params := testnet.Params{Writes: c.Int("writes"), Seed: c.Int64("seed")}
			var reports []testnet.Report
			var failed []string
			for _, name := range names {
				r, err := testnet.Run(c.Context, name, opts, params)
				if err != nil {
					return err
				}
				reports = append(reports, r)
				if !r.Converged {
					failed = append(failed, name)
				}
			}
			if err := out(c).result(reports, func(w io.Writer) { fmt.Fprint(w, testnet.Table(reports...)) }); err != nil {
				return err
			}
			if len(failed) > 0 {
				return fmt.Errorf("testnet: did not converge: %s", strings.Join(failed, ", "))
			}
			return nil
		},
	}
}

// scenarioNames expands --scenario into the scenarios to run.
func scenarioNames(name string) ([]string, error) {
	if name == allScenarios {
		return testnet.ScenarioNames(), nil
	}
	if _, ok := testnet.Lookup(name); !ok {
		return nil, usagef("unknown scenario %q; choose one of %s, or %s", name, strings.Join(testnet.ScenarioNames(), ", "), allScenarios)
	}
	return []string{name}, nil
}
