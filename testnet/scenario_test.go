package testnet_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/testnet"
)

func TestEveryScenarioConvergesOverMocknet(t *testing.T) {
	for _, name := range testnet.ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			runScenario(t, name, testnet.Mocknet)
		})
	}
}

func TestScenariosConvergeOverTCP(t *testing.T) {
	for _, name := range []string{"steady", "partition"} {
		t.Run(name, func(t *testing.T) {
			runScenario(t, name, testnet.TCP)
		})
	}
}

func runScenario(t *testing.T, name string, tr testnet.Transport) {
	t.Helper()
	const nodes, writes = 4, 200
	s, ok := testnet.Lookup(name)
	if !ok {
		t.Fatalf("scenario %q not registered", name)
	}
	n := newNet(t, testnet.Options{Nodes: nodes, Transport: tr, Seed: 1})
	r, err := s(testContext(t), n, testnet.Params{Writes: writes, ValueSize: 256, Seed: 2, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", r)
	if !r.Converged {
		t.Fatalf("did not converge: %s", r.Diff)
	}
	if r.Scenario != name || r.Transport != tr || r.Nodes != nodes || r.Writes != writes {
		t.Errorf("report names %s/%s/%d nodes/%d writes, want %s/%s/%d/%d", r.Scenario, r.Transport, r.Nodes, r.Writes, name, tr, nodes, writes)
	}
	if r.Traffic.GossipRecords == 0 || r.BytesPerRecord() < 256 {
		t.Errorf("traffic %+v: want gossip to carry every write's value", r.Traffic)
	}
	if ok, diff := n.Converged(testContext(t)); !ok {
		t.Errorf("report says converged, Converged says %s", diff)
	}
	traffic := r.Traffic
	switch name {
	case "drop":
		if traffic.GossipDropped == 0 || traffic.AntiEntropyRecords == 0 {
			t.Errorf("drop: %d messages dropped, %d records repaired; want both", traffic.GossipDropped, traffic.AntiEntropyRecords)
		}
	case "partition":
		// Gossip cannot cross a partition: anti-entropy must bring the
		// other side's writes. (A quickly restarted node, by contrast,
		// may get its backlog from GossipSub's message cache through
		// IHAVE/IWANT, so restart asserts convergence only.)
		if traffic.AntiEntropyRecords == 0 {
			t.Errorf("%s: no record came by anti-entropy", name)
		}
	}
}

func TestReportJSON(t *testing.T) {
	r := testnet.Report{
		Scenario: "steady", Transport: testnet.Mocknet, Nodes: 4, Writes: 200,
		ConvergeTime: 1500 * time.Microsecond, Total: 2 * time.Second, Converged: true,
		Traffic: testnet.Traffic{GossipMessages: 100, GossipBytes: 1000, AntiEntropyBytes: 600},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"scenario": "steady", "transport": "mocknet", "converge_ms": 1.5, "total_ms": 2000.0,
		"writes_per_second": 100.0, "messages_per_record": 0.5, "bytes_per_record": 8.0, "converged": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (in %s)", k, got[k], v, b)
		}
	}
	if s := r.String(); !strings.Contains(s, "steady") || !strings.Contains(s, "yes") {
		t.Errorf("String() = %q", s)
	}
}
