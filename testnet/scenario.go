package testnet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

// Params size a scenario's workload. Zero fields take the defaults.
type Params struct {
	// Writes is the number of writes; zero means 1000.
	Writes int
	// ValueSize is the size in bytes of each JSON value written; zero
	// means 1 KiB.
	ValueSize int
	// Seed draws keys, values and the writing nodes.
	Seed int64
	// Inflight is how many writes each writing node keeps outstanding, as
	// that many concurrent API clients would; zero means the scenario's
	// default: 32 for Burst, 1 (one write after another) for the rest.
	Inflight int
	// Timeout bounds the wait for convergence; zero means 60 s. A scenario
	// that does not converge in time reports Converged false.
	Timeout time.Duration
}

func (p Params) withDefaults() (Params, error) {
	if p.Writes == 0 {
		p.Writes = 1000
	}
	if p.ValueSize == 0 {
		p.ValueSize = 1 << 10
	}
	if p.Timeout == 0 {
		p.Timeout = 60 * time.Second
	}
	switch {
	case p.Writes < 0:
		return p, fmt.Errorf("testnet: %d writes: want at least 1", p.Writes)
	case p.ValueSize < 2 || p.ValueSize > crdt.MaxValueSize:
		return p, fmt.Errorf("testnet: value size %d: want 2 to %d bytes", p.ValueSize, crdt.MaxValueSize)
	case p.Inflight < 0:
		return p, fmt.Errorf("testnet: negative inflight %d", p.Inflight)
	case p.Timeout < 0:
		return p, fmt.Errorf("testnet: negative timeout %s", p.Timeout)
	}
	return p, nil
}

// Scenario runs a workload on a Net, waits for it to converge and reports
// the cost. It leaves the net running, healed and with every node started.
type Scenario func(ctx context.Context, n *Net, p Params) (Report, error)

// scenarios is the registry of named scenarios.
var scenarios = map[string]Scenario{
	"steady":    Steady,
	"conflict":  Conflict,
	"partition": PartitionHeal,
	"restart":   StopRestart,
	"drop":      Drop,
	"burst":     Burst,
}

// ScenarioNames lists the registered scenarios, sorted.
func ScenarioNames() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the scenario registered under name.
func Lookup(name string) (Scenario, bool) {
	s, ok := scenarios[name]
	return s, ok
}

// ErrUnknownScenario is returned by Run for a name not in ScenarioNames.
var ErrUnknownScenario = errors.New("testnet: unknown scenario")

// Run starts a Net with opts, runs the named scenario on it and closes it.
func Run(ctx context.Context, name string, opts Options, p Params) (Report, error) {
	s, ok := Lookup(name)
	if !ok {
		return Report{}, fmt.Errorf("%w %q", ErrUnknownScenario, name)
	}
	n, err := New(ctx, opts)
	if err != nil {
		return Report{}, err
	}
	r, err := s(ctx, n, p)
	if cerr := n.Close(); err == nil && cerr != nil {
		return r, cerr
	}
	return r, err
}

// workload is the part of a scenario that changes the net. It returns the
// moment from which convergence is timed: the end of the last write, or
// the heal or restart that lets the last difference through.
type workload func(ctx context.Context, w *writer) (settled time.Time, err error)

// measure runs work on n, waits for convergence and builds the report.
func measure(ctx context.Context, n *Net, name string, p Params, work workload) (Report, error) {
	base := n.Traffic()
	w := &writer{net: n}
	settled, err := work(ctx, w)
	if err != nil {
		return Report{}, fmt.Errorf("testnet %s: %w", name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	waitStart := time.Now()
	took, err := n.WaitConverged(wctx)
	if err != nil && ctx.Err() != nil {
		return Report{}, fmt.Errorf("testnet %s: %w", name, err)
	}
	r := Report{
		Scenario:     name,
		Transport:    n.Transport(),
		Nodes:        n.Len(),
		Writes:       w.done,
		ValueSize:    p.ValueSize,
		ConvergeTime: waitStart.Sub(settled) + took,
		Total:        waitStart.Add(took).Sub(w.start),
		Converged:    err == nil,
		Traffic:      n.Traffic().Sub(base),
	}
	if err != nil {
		r.Diff = err.Error()
	}
	return r, nil
}
