package antientropy

import "sync/atomic"

// Stats sums the sessions this service has initiated. Records are counted
// as each batch is merged, so the counters never trail the store by a whole
// session, and a session shared by several Sync callers counts once.
type Stats struct {
	Sessions        uint64
	Failures        uint64
	RecordsReceived uint64
	RecordsApplied  uint64
	BytesReceived   uint64
	BytesSent       uint64
}

type counters struct {
	sessions, failures, received, applied, bytesIn, bytesOut atomic.Uint64
}

func (c *counters) batch(received, applied int) {
	c.received.Add(uint64(received))
	c.applied.Add(uint64(applied))
}

func (c *counters) session(res Result, err error) {
	c.sessions.Add(1)
	if err != nil {
		c.failures.Add(1)
	}
	c.bytesIn.Add(uint64(res.BytesReceived))
	c.bytesOut.Add(uint64(res.BytesSent))
}

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	c := &s.stats
	return Stats{
		Sessions:        c.sessions.Load(),
		Failures:        c.failures.Load(),
		RecordsReceived: c.received.Load(),
		RecordsApplied:  c.applied.Load(),
		BytesReceived:   c.bytesIn.Load(),
		BytesSent:       c.bytesOut.Load(),
	}
}
