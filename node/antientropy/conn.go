package antientropy

import (
	"bufio"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// ioBufSize is the buffered reader's and writer's size.
const ioBufSize = 64 << 10

// conn frames one stream: every read and write of a frame gets its own
// deadline, so a peer that stalls ends the session after the idle timeout
// however long the session itself runs. It counts the bytes of the frames it
// moves. It is not safe for concurrent use.
type conn struct {
	s    network.Stream
	r    *bufio.Reader
	w    *bufio.Writer
	idle time.Duration
	buf  []byte // reused for every frame read
	hdr  []byte // reused for every frame header written

	in, out int64
}

func newConn(s network.Stream, idle time.Duration) *conn {
	return &conn{
		s:    s,
		r:    bufio.NewReaderSize(s, ioBufSize),
		w:    bufio.NewWriterSize(s, ioBufSize),
		idle: idle,
	}
}

// read returns the next frame. The payload is valid until the next read.
func (c *conn) read() (frameType, []byte, error) {
	if err := c.s.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, nil, fmt.Errorf("set read deadline: %w", err)
	}
	t, payload, err := readFrame(c.r, c.buf)
	c.buf = payload[:0]
	if err != nil {
		return 0, nil, err
	}
	c.in += int64(1 + uvarintLen(len(payload)) + len(payload))
	return t, payload, nil
}

// write sends one frame whose payload is the concatenation of parts, and
// flushes it.
func (c *conn) write(t frameType, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > maxPayload(t) {
		return fmt.Errorf("%s frame of %d bytes exceeds the limit", t, n)
	}
	if err := c.s.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	c.hdr = appendHeader(c.hdr[:0], t, n)
	if _, err := c.w.Write(c.hdr); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := c.w.Write(p); err != nil {
			return err
		}
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	c.out += int64(len(c.hdr) + n)
	return nil
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}
