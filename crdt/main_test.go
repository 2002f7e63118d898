package crdt_test

import (
	"flag"
	"os"
	"testing"
)

// defaultRapidSeed makes the property tests deterministic. Pass
// -rapid.seed=0 (or set RAPID_SEED) to explore with a random seed instead;
// rapid prints the seed of any failure so it can be replayed.
const defaultRapidSeed = "20240601"

func TestMain(m *testing.M) {
	flag.Parse()
	seeded := false
	flag.Visit(func(f *flag.Flag) { seeded = seeded || f.Name == "rapid.seed" })
	if _, ok := os.LookupEnv("RAPID_SEED"); !ok && !seeded {
		if err := flag.Set("rapid.seed", defaultRapidSeed); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
