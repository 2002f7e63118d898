package gossip

import "sync/atomic"

// Stats counts a Gossip's traffic since it started.
type Stats struct {
	// PublishedMessages, PublishedRecords and PublishedBytes count what
	// this node published: messages, the records they carried, and their
	// encoded size.
	PublishedMessages, PublishedRecords, PublishedBytes uint64
	// ReceivedMessages and ReceivedRecords count validated messages from
	// peers, and the records in them.
	ReceivedMessages, ReceivedRecords uint64
	// AppliedRecords counts received records that changed local state;
	// echoes and records already held do not.
	AppliedRecords uint64
	// RejectedMessages counts messages the validator rejected.
	RejectedMessages uint64
	// Dropped counts records never published: refused by a full queue,
	// too large for a message, failed to publish, or still queued at
	// Close. Anti-entropy delivers them instead.
	Dropped uint64
}

// counters is the live, concurrently updated form of Stats.
type counters struct {
	publishedMessages, publishedRecords, publishedBytes atomic.Uint64
	receivedMessages, receivedRecords, appliedRecords   atomic.Uint64
	rejectedMessages, dropped                           atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		PublishedMessages: c.publishedMessages.Load(),
		PublishedRecords:  c.publishedRecords.Load(),
		PublishedBytes:    c.publishedBytes.Load(),
		ReceivedMessages:  c.receivedMessages.Load(),
		ReceivedRecords:   c.receivedRecords.Load(),
		AppliedRecords:    c.appliedRecords.Load(),
		RejectedMessages:  c.rejectedMessages.Load(),
		Dropped:           c.dropped.Load(),
	}
}
