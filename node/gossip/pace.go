package gossip

import "time"

// Publishing pace. Up to paceBurst messages go out back to back; beyond
// that, one per paceInterval (500 a second). Records written meanwhile wait
// in the queue and ride in the next message, so a burst of writes becomes a
// few hundred large messages instead of thousands of small ones, each of
// which every peer would verify, validate, forward and merge, and which
// would overflow GossipSub's per-peer queues and be dropped. A lone write,
// or a writer that waits for each write to propagate (a person, a
// sequential client), stays under the rate and is never delayed.
const (
	paceInterval = 2 * time.Millisecond
	paceBurst    = 16
)

// pacer spaces messages by the generic cell rate algorithm: tat is the
// theoretical time at which the next message would be due if messages went
// out exactly one per interval. It is not safe for concurrent use.
type pacer struct {
	interval time.Duration
	burst    int
	tat      time.Time
}

// reserve books the next message at now and returns how long the caller
// must wait before sending it.
func (p *pacer) reserve(now time.Time) time.Duration {
	if p.tat.Before(now) {
		p.tat = now
	}
	wait := p.tat.Sub(now) - time.Duration(p.burst-1)*p.interval
	p.tat = p.tat.Add(p.interval)
	return max(wait, 0)
}
