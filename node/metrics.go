package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newMetrics builds the node's Prometheus registry. Every metric reads the
// node's own counters at scrape time, so nothing is counted twice and the
// hot paths carry no metric bookkeeping.
func newMetrics(n *Node) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		nodeCollector{n},
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

var (
	descRecords    = prometheus.NewDesc("syncnode_records", "Live records in the replica, besides the group's device list.", nil, nil)
	descTombstones = prometheus.NewDesc("syncnode_tombstones", "Tombstones in the replica.", nil, nil)
	descFeedHead   = prometheus.NewDesc("syncnode_feed_head", "Position of the latest local change.", nil, nil)
	descPeers      = prometheus.NewDesc("syncnode_peers_connected", "Connected group peers.", nil, nil)
	descRefilling  = prometheus.NewDesc("syncnode_refilling_keys", "Keys a revoked device's dropped writes left empty, waiting for a peer to refill them.", nil, nil)
	descGossip     = prometheus.NewDesc("syncnode_gossip_total", "Gossip traffic by direction and unit.", []string{"kind"}, nil)
	descAE         = prometheus.NewDesc("syncnode_antientropy_total", "Anti-entropy pulls initiated by this node.", []string{"kind"}, nil)
	descRejected   = prometheus.NewDesc("syncnode_rejected_total", "Input refused from peers, by reason.", []string{"reason"}, nil)
)

// nodeCollector exposes a node's counters as Prometheus metrics.
type nodeCollector struct{ n *Node }

func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecords, descTombstones, descFeedHead, descPeers, descRefilling, descGossip, descAE, descRejected} {
		ch <- d
	}
}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.store.Stats()
	gauge := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descRecords, c.n.userRecords(st.Live))
	gauge(descTombstones, uint64(st.Tombstones))
	gauge(descFeedHead, st.FeedHead)
	gauge(descPeers, uint64(len(c.n.host.Network().Peers())))
	gauge(descRefilling, uint64(c.n.store.HoleCount()))

	s := c.n.Stats()
	g := s.Gossip
	counter(descGossip, g.PublishedMessages, "published_messages")
	counter(descGossip, g.PublishedRecords, "published_records")
	counter(descGossip, g.PublishedBytes, "published_bytes")
	counter(descGossip, g.ReceivedMessages, "received_messages")
	counter(descGossip, g.ReceivedRecords, "received_records")
	counter(descGossip, g.AppliedRecords, "applied_records")
	counter(descGossip, g.Dropped, "dropped_records")
	ae := s.AntiEntropy
	counter(descAE, ae.Sessions, "sessions")
	counter(descAE, ae.Failures, "failures")
	counter(descAE, ae.RecordsReceived, "records_received")
	counter(descAE, ae.RecordsApplied, "records_applied")
	counter(descAE, ae.BytesReceived, "bytes_received")
	counter(descAE, ae.BytesSent, "bytes_sent")
	byReason, _ := c.n.rejects.total()
	for r, v := range byReason {
		counter(descRejected, v, r)
	}
}
