package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"

	"github.com/syncnode/syncnode/crdt"
)

// ErrBadBackup means Restore's input is not a complete syncnode backup.
var ErrBadBackup = errors.New("not a valid syncnode backup")

// A backup is Badger's backup stream: frames of a little-endian uint64
// length followed by a protobuf KVList of that length.
const (
	// backupBatch bounds the frames Backup writes, and so the memory a
	// backup or a restore of it takes.
	backupBatch = 16 << 20
	// maxBackupFrame is the largest frame Restore reads; Badger's own
	// default batching stays below it.
	maxBackupFrame = 256 << 20
	// maxBackupKey and maxBackupValue bound one entry: the longest record
	// key (tag, namespace, NUL, key) and the largest stored record, with
	// room to spare.
	maxBackupKey   = 2 + crdt.MaxNamespaceLen + crdt.MaxKeyLen + crdt.MaxOriginLen
	maxBackupValue = crdt.MaxStoredValueSize + 4<<10
	// badgerBitDelete is Badger's unexported deletion flag in KV.Meta.
	badgerBitDelete = 1
)

// Backup writes a consistent full backup of the open store to w, in
// Badger's backup stream format, and returns the bytes written. Writes may
// continue meanwhile; the backup holds the state as of its start.
func (s *Store) Backup(w io.Writer) (int64, error) {
	if !s.enterRead() {
		return 0, fmt.Errorf("store backup: %w", ErrClosed)
	}
	defer s.reads.leave()
	cw := &countingWriter{w: w}
	stream := s.db.NewStream()
	stream.LogPrefix = "store backup"
	stream.MaxSize = backupBatch
	// Each of the stream's goroutines reads through its own transaction;
	// one goroutine makes the backup a single consistent view.
	stream.NumGo = 1
	if _, err := stream.Backup(cw, 0); err != nil {
		return cw.n, fmt.Errorf("store backup: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore loads a backup made by Backup into dir, which must not exist or
// be empty. It checks that the result is a consistent syncnode store, and
// on any failure removes dir again. Unless standalone is set, the restored
// store is marked so that it refuses local writes with ErrRestored until
// ClearRestored: set standalone only when no peer can hold writes this
// device made after the backup.
func Restore(dir string, r io.Reader, standalone bool) (err error) {
	if err := prepareRestoreDir(dir); err != nil {
		return fmt.Errorf("store restore: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	log := slog.Default().With("component", "store")
	db, err := badger.Open(badgerOptions(Options{Dir: dir}, log))
	if err != nil {
		return fmt.Errorf("store restore: %w", err)
	}
	if err := restoreInto(db, r, standalone); err != nil {
		db.Close()
		return fmt.Errorf("store restore: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store restore: %w", err)
	}
	return nil
}

// prepareRestoreDir creates dir, or checks that it is an empty directory.
func prepareRestoreDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

func restoreInto(db *badger.DB, r io.Reader, standalone bool) error {
	if err := loadBackup(db, r); err != nil {
		return err
	}
	if err := verifyStore(db); err != nil {
		return err
	}
	return db.Update(func(txn *badger.Txn) error {
		if err := resumeFeed(txn, time.Now()); err != nil {
			return err
		}
		if standalone {
			return txn.Delete(metaRestored)
		}
		return txn.Set(metaRestored, nil)
	})
}

// loadBackup writes the newest live version of every key in the backup
// stream r into db. It reads the stream itself rather than through
// Badger's Load, so that a frame's size is bounded before it is read and
// only plain keys and values of syncnode's tables reach the database.
func loadBackup(db *badger.DB, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	var (
		hdr  [8]byte
		buf  []byte
		keys int
	)
	for frame := 0; ; frame++ {
		_, err := io.ReadFull(br, hdr[:])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: frame %d: %w", ErrBadBackup, frame, err)
		}
		n := binary.LittleEndian.Uint64(hdr[:])
		if n > maxBackupFrame {
			return fmt.Errorf("%w: frame %d claims %d bytes, more than %d", ErrBadBackup, frame, n, maxBackupFrame)
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("%w: frame %d: %w", ErrBadBackup, frame, err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(buf, &list); err != nil {
			return fmt.Errorf("%w: frame %d: %w", ErrBadBackup, frame, err)
		}
		var prev []byte
		for _, kv := range list.Kv {
			// A key's versions come together, newest first; a deleted
			// newest version ends the key.
			if prev != nil && bytes.Equal(kv.Key, prev) {
				continue
			}
			prev = kv.Key
			if len(kv.Meta) > 0 && kv.Meta[0]&badgerBitDelete != 0 {
				continue
			}
			if err := checkBackupEntry(kv); err != nil {
				return fmt.Errorf("%w: frame %d: %w", ErrBadBackup, frame, err)
			}
			if err := wb.Set(kv.Key, kv.Value); err != nil {
				return err
			}
			keys++
		}
	}
	if keys == 0 {
		return fmt.Errorf("%w: it is empty", ErrBadBackup)
	}
	return wb.Flush()
}

func checkBackupEntry(kv *pb.KV) error {
	if len(kv.Key) == 0 || len(kv.Key) > maxBackupKey {
		return fmt.Errorf("key of %d bytes", len(kv.Key))
	}
	if !knownTag(kv.Key[0]) {
		return fmt.Errorf("unknown table %q", kv.Key[0])
	}
	if len(kv.Value) > maxBackupValue {
		return fmt.Errorf("value of %d bytes", len(kv.Value))
	}
	return nil
}

func knownTag(t byte) bool {
	switch t {
	case tagRecord, tagOrigin, tagFeed, tagVector, tagMeta, tagHole:
		return true
	}
	return false
}

// verifyStore checks that db is a consistent syncnode store: it names its
// format, its metadata loads, every record decodes under its own key, the
// index and feed entries and the records name each other one to one, and
// the digest and counters match the records.
func verifyStore(db *badger.DB) error {
	err := db.View(func(txn *badger.Txn) error {
		format, err := readFormat(txn)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return errors.New("no store format")
		}
		if err == nil && format != storeFormat {
			err = fmt.Errorf("unknown store format %d", format)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	st, hlc, err := loadState(db)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	var (
		digest                     crdt.Digest
		live, dead, index, feedLen int64
	)
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			switch k[0] {
			case tagRecord:
				sr, err := itemStored(item)
				if err != nil {
					return err
				}
				if !bytes.Equal(k, recordKey(sr.rec.NS, sr.rec.Key)) {
					return fmt.Errorf("record %s/%s stored under another key", sr.rec.NS, sr.rec.Key)
				}
				if err := checkRecordLinks(txn, k[1:], sr, st.feedHead); err != nil {
					return fmt.Errorf("record %s/%s: %w", sr.rec.NS, sr.rec.Key, err)
				}
				if sr.rec.Version.HLC > hlc {
					// The clock absorbs every stamp it stores; one behind
					// would stamp new writes older than existing ones.
					return fmt.Errorf("record %s/%s stamped after the clock's high-water mark", sr.rec.NS, sr.rec.Key)
				}
				digest.Add(sr.rec)
				if sr.rec.Deleted {
					dead++
				} else {
					live++
				}
			case tagOrigin:
				if _, _, err := parseOriginKey(k); err != nil {
					return err
				}
				index++
			case tagFeed:
				if len(k) != 9 {
					return fmt.Errorf("bad feed key")
				}
				feedLen++
			case tagHole:
				if _, _, err := splitNSKey(k[1:]); err != nil {
					return err
				}
				if err := item.Value(func(b []byte) error {
					_, err := decodeHole(b)
					return err
				}); err != nil {
					return err
				}
				if _, err := txn.Get(append([]byte{tagRecord}, k[1:]...)); err == nil {
					return errors.New("a hole over a record")
				}
			case tagVector, tagMeta:
			default:
				return fmt.Errorf("unknown table %q", k[0])
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	switch {
	case digest != st.digest:
		return fmt.Errorf("%w: digest of the records does not match the stored one", ErrBadBackup)
	case live != st.live || dead != st.dead:
		return fmt.Errorf("%w: holds %d live and %d deleted records, counted %d and %d",
			ErrBadBackup, live, dead, st.live, st.dead)
	case index != live+dead || feedLen != live+dead:
		return fmt.Errorf("%w: %d records with %d index and %d feed entries", ErrBadBackup, live+dead, index, feedLen)
	}
	return nil
}

// checkRecordLinks checks that the index entry of sr's version and the feed
// entry at sr's position both name the record at ref, and that the position
// is one the feed has handed out. With the entries counted equal to the
// records, this makes index, feed and records correspond one to one.
func checkRecordLinks(txn *badger.Txn, ref []byte, sr storedRecord, feedHead uint64) error {
	if sr.feedPos == 0 || sr.feedPos > feedHead {
		return fmt.Errorf("feed position %d outside the feed (head %d)", sr.feedPos, feedHead)
	}
	for _, link := range []struct {
		name string
		key  []byte
	}{
		{"index", originKey(sr.rec.Version.Origin, sr.rec.Version.Seq)},
		{"feed", feedKey(sr.feedPos)},
	} {
		item, err := txn.Get(link.key)
		if err != nil {
			return fmt.Errorf("%s entry: %w", link.name, err)
		}
		if err := item.Value(func(b []byte) error {
			if !bytes.Equal(b, ref) {
				return fmt.Errorf("%s entry names another key", link.name)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
