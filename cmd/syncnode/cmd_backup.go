package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/client"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/store"
)

// probeTimeout bounds the check for a node running on the data dir.
const probeTimeout = 2 * time.Second

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "write a consistent backup of this device's records to FILE (- for stdout)",
		ArgsUsage: "FILE",
		Flags:     clientFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("syncnode backup FILE [--data DIR]")
			}
			file := c.Args().First()
			dir, err := openDataDir(c)
			if err != nil {
				return err
			}
			cl, err := runningNode(c, dir)
			if err != nil {
				return err
			}
			source := func(w io.Writer) (int64, error) { return backupStore(dir, w) }
			via := "store " + dir.DBPath()
			if cl != nil {
				source = func(w io.Writer) (int64, error) { return cl.Backup(c.Context, w) }
				via = "running node"
			}
			n, err := writeBackup(file, c.App.Writer, newProgress(c.App.ErrWriter, "backup", 0), source)
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			res := struct {
				File  string `json:"file"`
				Bytes int64  `json:"bytes"`
				From  string `json:"from"`
			}{file, n, via}
			if file == "-" {
				return nil // stdout holds the backup itself
			}
			return out(c).result(res, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s (%s) from the %s\n", file, byteSize(n), via)
			})
		},
	}
}

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "replace this device's records with a backup from FILE (- for stdin); the node must be stopped",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			dataFlag(), jsonFlag(),
			&cli.BoolFlag{Name: "standalone", EnvVars: env("standalone"),
				Usage: "allow local writes at once; only if no peer can hold writes this device made after the backup"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("syncnode restore FILE [--data DIR] [--standalone]")
			}
			file := c.Args().First()
			dir, err := openDataDir(c)
			if err != nil {
				return err
			}
			if cl, err := runningNode(c, dir); err != nil {
				return err
			} else if cl != nil {
				return fmt.Errorf("restore: a node is running on %s; stop it first", dir.Path)
			}
			standalone := c.Bool("standalone")
			n, err := restoreFile(c.Context, dir, file, standalone, c.App.Reader, c.App.ErrWriter)
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			res := struct {
				File       string `json:"file"`
				Bytes      int64  `json:"bytes"`
				Data       string `json:"data"`
				Standalone bool   `json:"standalone"`
			}{file, n, dir.Path, standalone}
			return out(c).result(res, func(w io.Writer) {
				fmt.Fprintf(w, "restored %s (%s) into %s\n", file, byteSize(n), dir.DBPath())
				if !standalone {
					fmt.Fprintln(w, "local writes resume after the first sync with a peer")
				}
			})
		},
	}
}

// runningNode returns a client of the node running on dir, or nil if none
// answers. With --api, that node must answer.
func runningNode(c *cli.Context, dir *datadir.Dir) (*client.Client, error) {
	if c.String("api") != "" {
		return connect(c)
	}
	addr, err := dir.APIAddr()
	if errors.Is(err, datadir.ErrNotRunning) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	token, err := dir.Token()
	if err != nil {
		return nil, err
	}
	cl := client.New(addr, token)
	ctx, cancel := context.WithTimeout(c.Context, probeTimeout)
	defer cancel()
	if cl.Healthz(ctx) != nil {
		return nil, nil // a stale api-addr left by a node that was killed
	}
	return cl, nil
}

// backupStore backs up dir's store with no node running, opening it
// directly.
func backupStore(dir *datadir.Dir, w io.Writer) (int64, error) {
	id, err := deviceID(dir)
	if err != nil {
		return 0, err
	}
	st, err := store.Open(store.Options{
		Dir:    dir.DBPath(),
		Origin: crdt.NodeID(id.String()),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return 0, err
	}
	n, err := st.Backup(w)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// writeBackup writes what source produces to file: "-" is stdout,
// otherwise file.tmp renamed into place once complete and synced, so that
// file is never a partial backup.
func writeBackup(file string, stdout io.Writer, p *progress, source func(io.Writer) (int64, error)) (int64, error) {
	defer p.done()
	if file == "-" {
		return source(p.wrapWriter(stdout))
	}
	tmp := file + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := source(p.wrapWriter(f))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return n, err
	}
	return n, nil
}

// restoreFile replaces dir's database with the backup in file ("-": stdin)
// and returns the bytes read. The backup is loaded and checked beside the
// current database, which is swapped out only once that succeeded and
// removed only once the new one is in place.
func restoreFile(ctx context.Context, dir *datadir.Dir, file string, standalone bool, stdin io.Reader, stderr io.Writer) (int64, error) {
	db := dir.DBPath()
	fresh, old := db+".restore", db+".old"
	if _, err := os.Stat(old); err == nil {
		return 0, fmt.Errorf("%s exists, left by an interrupted restore: move it away first (it may hold your previous records)", old)
	}
	if err := lockedByNode(dir); err != nil {
		return 0, err
	}
	var (
		r    io.Reader = stdin
		size int64
	)
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		r = f
	}
	if err := os.RemoveAll(fresh); err != nil { // left by an interrupted restore
		return 0, err
	}
	p := newProgress(stderr, "restore", size)
	cr := p.wrapReader(ctxReader{ctx, r})
	err := store.Restore(fresh, cr, standalone)
	p.done()
	if err != nil {
		return cr.n, fmt.Errorf("%s: %w", file, err)
	}
	return cr.n, swapDB(db, fresh, old)
}

// swapDB puts fresh in place of db, keeping db as old until that worked.
func swapDB(db, fresh, old string) error {
	hadDB := true
	if err := os.Rename(db, old); errors.Is(err, os.ErrNotExist) {
		hadDB = false
	} else if err != nil {
		os.RemoveAll(fresh)
		return err
	}
	if err := os.Rename(fresh, db); err != nil {
		if hadDB {
			os.Rename(old, db)
		}
		os.RemoveAll(fresh)
		return err
	}
	if hadDB {
		return os.RemoveAll(old)
	}
	return nil
}

// lockedByNode refuses a database that a process holds open, such as a
// node whose API did not answer.
func lockedByNode(dir *datadir.Dir) error {
	id, err := deviceID(dir)
	if err != nil {
		return err
	}
	st, err := store.Open(store.Options{Dir: dir.DBPath(), Origin: crdt.NodeID(id.String()), Logger: slog.New(slog.DiscardHandler)})
	if errors.Is(err, store.ErrLocked) {
		return err
	}
	if err == nil {
		return st.Close()
	}
	return nil // a damaged database is what a restore replaces
}

// ctxReader stops a restore when ctx ends (Ctrl-C).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progress reports bytes moved on a terminal, at most four times a second,
// on one line rewritten with a carriage return. It prints nothing when its
// writer is not a terminal.
type progress struct {
	w     io.Writer // nil: not a terminal
	verb  string
	total int64 // 0: unknown
	now   func() time.Time
	n     int64
	last  time.Time
	shown bool
}

const progressEvery = 250 * time.Millisecond

func newProgress(stderr io.Writer, verb string, total int64) *progress {
	p := &progress{verb: verb, total: total, now: time.Now}
	if isTerminal(stderr) {
		p.w = stderr
	}
	return p
}

func (p *progress) add(n int) {
	p.n += int64(n)
	if p.w == nil {
		return
	}
	if now := p.now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.print()
	}
}

func (p *progress) print() {
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %s of %s   ", p.verb, byteSize(p.n), byteSize(p.total))
	} else {
		fmt.Fprintf(p.w, "\r%s: %s   ", p.verb, byteSize(p.n))
	}
	p.shown = true
}

// done ends the progress line.
func (p *progress) done() {
	if p.w == nil || !p.shown {
		return
	}
	p.print()
	fmt.Fprintln(p.w)
}

func (p *progress) wrapWriter(w io.Writer) io.Writer { return &progressWriter{w, p} }

func (p *progress) wrapReader(r io.Reader) *progressReader { return &progressReader{r: r, p: p} }

type progressWriter struct {
	w io.Writer
	p *progress
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.add(n)
	return n, err
}

type progressReader struct {
	r io.Reader
	p *progress
	n int64
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.n += int64(n)
	pr.p.add(n)
	return n, err
}

// isTerminal reports whether w is a character device other than the null
// device: a terminal, for all practical purposes, without a terminal
// library.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && !os.SameFile(fi, null)
}

// byteSize renders n bytes for people.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
