package relaylink

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/syncnode/syncnode/crdt"
)

// ProtocolID is the libp2p protocol of the device–relay control exchange.
const ProtocolID = "/syncnode/relay/1.0.0"

// Wire bounds.
const (
	// MaxLine bounds one JSON line either way.
	MaxLine = 4 << 20
	// MaxKeysPerFrame bounds the keys in one resync frame.
	MaxKeysPerFrame = 1000
	// MaxPeers bounds the peers a response lists.
	MaxPeers = 256
)

// ErrTooLong means a peer sent a line over MaxLine.
var ErrTooLong = errors.New("relaylink: line too long")

// Request opens an exchange.
type Request struct {
	// Token pairs the device on first contact; a paired device may omit it.
	Token string `json:"token,omitempty"`
	// Ack is the device's contiguous version vector.
	Ack crdt.Vector `json:"ack"`
}

// Response answers a Request.
type Response struct {
	// Error, if set, means the relay refused; nothing else is set.
	Error string `json:"error,omitempty"`
	// Device is the name the device is paired under.
	Device string `json:"device,omitempty"`
	// ServerSeq is the relay's server sequence: its change feed head.
	ServerSeq uint64 `json:"server_seq"`
	// Collect is the vector under which every active device has seen every
	// tombstone; tombstones it covers may be collected.
	Collect crdt.Vector `json:"collect,omitempty"`
	// Resync means the device must drop what the relay has collected
	// since it was last seen; key frames follow.
	Resync bool `json:"resync,omitempty"`
	// Peers are other paired devices connected to the relay.
	Peers []string `json:"peers,omitempty"`
}

// KeyFrame is one batch of the relay's keys during a resync. The last frame
// has Done set and carries the vector of the snapshot the keys came from.
type KeyFrame struct {
	Keys   [][2]string `json:"keys,omitempty"`
	Done   bool        `json:"done,omitempty"`
	Vector crdt.Vector `json:"vector,omitempty"`
}

// Ack closes a resync: the device has dropped what the relay collected.
type Ack struct {
	Resynced bool `json:"resynced"`
}

// codec reads and writes bounded JSON lines.
type codec struct {
	r *bufio.Reader
	w io.Writer
}

func newCodec(rw io.ReadWriter) *codec {
	return &codec{r: bufio.NewReaderSize(rw, 64<<10), w: rw}
}

func (c *codec) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("relaylink encode: %w", err)
	}
	if len(b) >= MaxLine {
		return fmt.Errorf("relaylink send: %w", ErrTooLong)
	}
	if _, err := c.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("relaylink send: %w", err)
	}
	return nil
}

func (c *codec) recv(v any) error {
	var line []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLine {
			return fmt.Errorf("relaylink recv: %w", ErrTooLong)
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("relaylink recv: %w", err)
		}
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("relaylink recv: %w: %w", crdt.ErrCorrupt, err)
	}
	return nil
}

// Send and Recv expose the framing to the relay's end.
func Send(w io.Writer, v any) error { return (&codec{w: w}).send(v) }

// Reader reads bounded JSON lines from r.
type Reader struct{ c *codec }

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader { return &Reader{c: &codec{r: bufio.NewReaderSize(r, 64<<10)}} }

// Recv decodes the next line into v.
func (r *Reader) Recv(v any) error { return r.c.recv(v) }
