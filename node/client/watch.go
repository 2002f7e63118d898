package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
)

// maxEventLine bounds one line of the event stream: a record holds at most
// crdt.MaxValueSize bytes of value plus a key and namespace whose JSON
// escaping stays well under the slack.
const maxEventLine = crdt.MaxValueSize + 64<<10

// errLineTooLong reports a stream line over maxEventLine.
var errLineTooLong = errors.New("event stream line too long")

// Watch streams changes of ns (all namespaces if empty) to fn, in feed
// order, starting after the cursor since: "" or "now" for only changes from
// now on. Pass the last Change's Cursor as since to resume after a
// disconnect. Watch returns fn's error if fn fails, ctx's error once ctx
// ends, and nil if the server ends the stream.
func (c *Client) Watch(ctx context.Context, ns, since string, fn func(api.Change) error) error {
	q := url.Values{}
	setIf(q, "ns", ns)
	setIf(q, "since", since)
	res, err := c.send(ctx, http.MethodGet, "/v1/watch", q, nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("watch: response is %q, not an event stream", mt)
	}
	err = readEvents(bufio.NewReader(res.Body), fn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// readEvents parses a server-sent event stream and hands each "change"
// event to fn, with the event's id as its cursor. Other events and comments
// are skipped.
func readEvents(r *bufio.Reader, fn func(api.Change) error) error {
	var id, event string
	var data []byte
	for {
		line, err := readLine(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		if len(line) == 0 {
			if event == "change" && data != nil {
				ch := api.Change{Cursor: id}
				if err := json.Unmarshal(data, &ch.Record); err != nil {
					return fmt.Errorf("watch: event %s: %w", id, err)
				}
				if err := fn(ch); err != nil {
					return err
				}
			}
			event, data = "", nil
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "": // a comment, such as the heartbeat
		case "id":
			id = string(value)
		case "event":
			event = string(value)
		case "data":
			if len(data)+len(value) > maxEventLine {
				return fmt.Errorf("watch: %w", errLineTooLong)
			}
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, value...)
		}
	}
}

// readLine reads one line without its terminator (\n or \r\n), refusing
// lines longer than maxEventLine before buffering them.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > maxEventLine+2 {
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
