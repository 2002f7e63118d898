package api

import (
	"fmt"
	"io"
	"net/http"
)

// BackupContentType is the media type of GET /v1/backup: the store's
// backup stream, which `syncnode restore` loads.
const BackupContentType = "application/octet-stream"

// backup streams a consistent full backup of the store. Once bytes have
// gone out the status can no longer change, so a failure mid-stream aborts
// the connection: the client sees a truncated body, never a complete-looking
// partial backup.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", BackupContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	bw := &backupWriter{w: w, r: r, rc: http.NewResponseController(w)}
	n, err := s.b.Backup(bw)
	if err == nil {
		return
	}
	if !bw.started {
		s.fail(w, r, fmt.Errorf("backup: %w", err))
		return
	}
	s.log.Warn("backup aborted", "bytes", n, "err", err)
	panic(http.ErrAbortHandler)
}

// backupWriter passes a backup to the client. It stops the backup, which
// holds a store read open, as soon as the request ends, and drops a client
// that stops reading.
type backupWriter struct {
	w       io.Writer
	r       *http.Request
	rc      *http.ResponseController
	started bool
}

func (b *backupWriter) Write(p []byte) (int, error) {
	if err := b.r.Context().Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		// Writing nothing would still send the 200 status.
		return 0, nil
	}
	extendWriteDeadline(b.rc, writeGrace)
	b.started = true
	return b.w.Write(p)
}
