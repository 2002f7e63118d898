package gossip

import (
	"fmt"

	"github.com/syncnode/syncnode/crdt"
)

// Sentinel errors. Each wraps the crdt error that classifies it, so callers
// counting rejections by crdt.ErrCorrupt, crdt.ErrInvalid and
// crdt.ErrClockSkew need not know about gossip.
var (
	// ErrTooLarge means a message exceeded Config.MaxMessageBytes.
	ErrTooLarge = fmt.Errorf("%w: gossip message too large", crdt.ErrInvalid)
	// ErrEmptyBatch means a message carried no records, which no honest
	// publisher sends.
	ErrEmptyBatch = fmt.Errorf("%w: gossip message carries no records", crdt.ErrInvalid)
)
