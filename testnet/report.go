package testnet

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what one scenario run measured.
type Report struct {
	Scenario  string
	Transport Transport
	Nodes     int
	// Writes counts the writes made, each through node.Put.
	Writes int
	// ValueSize is the size of each value written, in bytes.
	ValueSize int
	// ConvergeTime runs from the last write, or from the heal or restart
	// that ends the fault, until every replica holds the same records.
	ConvergeTime time.Duration
	// Total runs from the first write until convergence.
	Total time.Duration
	// Converged is false when the replicas still differed at the timeout;
	// Diff then says how.
	Converged bool
	Diff      string
	// Traffic is what the nodes sent during the scenario.
	Traffic Traffic
}

// MessagesPerRecord is gossip messages published per write: below 1 when
// writes are batched.
func (r Report) MessagesPerRecord() float64 { return perWrite(r.Traffic.GossipMessages, r.Writes) }

// BytesPerRecord is gossip bytes published plus anti-entropy bytes, both
// ways, per write.
func (r Report) BytesPerRecord() float64 {
	return perWrite(r.Traffic.GossipBytes+r.Traffic.AntiEntropyBytes, r.Writes)
}

// WritesPerSecond is writes divided by Total.
func (r Report) WritesPerSecond() float64 {
	if r.Total <= 0 {
		return 0
	}
	return float64(r.Writes) / r.Total.Seconds()
}

func perWrite(v uint64, writes int) float64 {
	if writes == 0 {
		return 0
	}
	return float64(v) / float64(writes)
}

// reportJSON is the JSON form of a Report: durations in milliseconds,
// derived figures included.
type reportJSON struct {
	Scenario           string    `json:"scenario"`
	Transport          Transport `json:"transport"`
	Nodes              int       `json:"nodes"`
	Writes             int       `json:"writes"`
	ValueSize          int       `json:"value_size"`
	ConvergeMS         float64   `json:"converge_ms"`
	TotalMS            float64   `json:"total_ms"`
	WritesPerSecond    float64   `json:"writes_per_second"`
	MessagesPerRecord  float64   `json:"messages_per_record"`
	BytesPerRecord     float64   `json:"bytes_per_record"`
	GossipMessages     uint64    `json:"gossip_messages"`
	GossipBytes        uint64    `json:"gossip_bytes"`
	GossipDropped      uint64    `json:"gossip_dropped"`
	AntiEntropyRounds  uint64    `json:"anti_entropy_rounds"`
	AntiEntropyRecords uint64    `json:"anti_entropy_records"`
	AntiEntropyBytes   uint64    `json:"anti_entropy_bytes"`
	Converged          bool      `json:"converged"`
	Diff               string    `json:"diff,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (r Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(reportJSON{
		Scenario:           r.Scenario,
		Transport:          r.Transport,
		Nodes:              r.Nodes,
		Writes:             r.Writes,
		ValueSize:          r.ValueSize,
		ConvergeMS:         ms(r.ConvergeTime),
		TotalMS:            ms(r.Total),
		WritesPerSecond:    round2(r.WritesPerSecond()),
		MessagesPerRecord:  round2(r.MessagesPerRecord()),
		BytesPerRecord:     round2(r.BytesPerRecord()),
		GossipMessages:     r.Traffic.GossipMessages,
		GossipBytes:        r.Traffic.GossipBytes,
		GossipDropped:      r.Traffic.GossipDropped,
		AntiEntropyRounds:  r.Traffic.AntiEntropyRounds,
		AntiEntropyRecords: r.Traffic.AntiEntropyRecords,
		AntiEntropyBytes:   r.Traffic.AntiEntropyBytes,
		Converged:          r.Converged,
		Diff:               r.Diff,
	})
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// String returns the report as a one-row Table.
func (r Report) String() string { return Table(r) }

// Table formats reports as a text table, one row each, with any
// convergence failures listed below it.
func Table(reports ...Report) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttransport\tnodes\twrites\tconverge\ttotal\twrites/s\tmsgs/rec\tbytes/rec\tAE records\tdropped\tconverged\t")
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%.0f\t%.2f\t%.0f\t%d\t%d\t%s\t\n",
			r.Scenario, r.Transport, r.Nodes, r.Writes,
			r.ConvergeTime.Round(100*time.Microsecond), r.Total.Round(100*time.Microsecond),
			r.WritesPerSecond(), r.MessagesPerRecord(), r.BytesPerRecord(),
			r.Traffic.AntiEntropyRecords, r.Traffic.GossipDropped, yesNo(r.Converged))
	}
	tw.Flush()
	for _, r := range reports {
		if !r.Converged {
			fmt.Fprintf(&b, "%s did not converge: %s\n", r.Scenario, r.Diff)
		}
	}
	return b.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
