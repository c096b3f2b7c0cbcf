package watch

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

// Journal keeps what is in flight on disk: every event the Tracker
// kept, with the time it came, and each digest once it went (delivered
// or spooled). Replaying it after a kill -9, a reboot or a restart
// rebuilds the same jobs with the same deadlines, and says which
// digests were made but never went. One line a record:
//
//	<unix nanos> TAB <tag> TAB <data>
//	<unix nanos> TAB !digested TAB <key>
//
// A record is whole or it is not there: a write that fails (a full
// disk) is cut off, and so is a torn last line found at open, so that
// the next record never starts in the middle of a line (the replay
// would drop both).
type Journal struct {
	path string
	f    *os.File
	w    *bufio.Writer
	// size: the bytes of whole records in f, what a failed write is
	// cut back to. torn: that cut failed too; it is tried again
	// before the next record.
	size int64
	torn bool
	// rewritten: the size after the last rewrite (Compact); minRewrite:
	// the least size that is worth one.
	rewritten, minRewrite int64
}

const digestedTag = "!digested"

// OpenJournal opens (creating it, 0600, in a dir made 0700) the journal
// in dir, and replays it into t: it returns the digests that were made
// and never went, to send now.
func OpenJournal(dir string, t *Tracker) (*Journal, []Digest, error) {
	if err := deliver.MakeDir(dir); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, "journal")
	f, err := deliver.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("watch journal: %w", err)
	}
	removeStaleRewrites(dir)
	size, err := cutTorn(f)
	var pending []Digest
	if err == nil {
		pending, err = replay(f, t)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("watch journal %s: %w", path, err)
	}
	// rewritten is 0: a journal grown big under an older version is
	// compacted at the first chance.
	return &Journal{path: path, f: f, w: bufio.NewWriter(f), size: size, minRewrite: compactAt}, pending, nil
}

// cutTorn cuts f back to just after its last newline, and returns its
// size then: a line a crash or a full disk tore costs only itself, and
// the next record is not glued onto it.
func cutTorn(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size, end := st.Size(), st.Size()
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end += int64(i) + 1 - n
			break
		}
		end -= n
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// replay feeds the journal's events to t at their own times.
func replay(r io.Reader, t *Tracker) ([]Digest, error) {
	went := map[string]bool{}
	var made []Digest
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for n := 1; sc.Scan(); n++ {
		at, tag, data, ok := splitRecord(sc.Bytes())
		if !ok {
			continue // a line cut by a crash: the event is lost, not the rest
		}
		if tag == digestedTag {
			went[string(data)] = true
			t.forget(string(data), at)
			continue
		}
		made = append(made, t.Due(at)...)
		_, due := t.Handle(Event{Tag: tag, Data: append([]byte(nil), data...)}, at)
		made = append(made, due...)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var pending []Digest
	for _, d := range made {
		if !went[d.Key] {
			pending = append(pending, d)
		}
	}
	return pending, nil
}

func splitRecord(line []byte) (time.Time, string, []byte, bool) {
	ns, rest, ok1 := bytes.Cut(line, []byte("\t"))
	tag, data, ok2 := bytes.Cut(rest, []byte("\t"))
	n, err := strconv.ParseInt(string(ns), 10, 64)
	if !ok1 || !ok2 || err != nil {
		return time.Time{}, "", nil, false
	}
	return time.Unix(0, n), string(tag), data, true
}

// Add records an event the Tracker kept. It reaches the file before
// any digest it completes is sent (Went flushes).
func (j *Journal) Add(ev Event, at time.Time) error {
	return j.write("%d\t%s\t%s\n", at.UnixNano(), ev.Tag, ev.Data)
}

// Went records that a digest was delivered or spooled.
func (j *Journal) Went(key string, at time.Time) error {
	if err := j.write("%d\t%s\t%s\n", at.UnixNano(), digestedTag, key); err != nil {
		return err
	}
	return j.f.Sync()
}

// write adds one record to the file (the page cache survives a kill
// -9; Went also syncs). If it fails, what reached the file of it is cut
// off and the writer starts afresh: a bufio.Writer keeps its first
// error for ever, so one full disk would otherwise fail every record
// after it, and the torn half would swallow the next record.
func (j *Journal) write(format string, args ...any) error {
	if j.torn {
		if err := j.cut(); err != nil {
			return err
		}
	}
	n, _ := fmt.Fprintf(j.w, format, args...) // an error stays in w for Flush
	if err := j.w.Flush(); err != nil {
		j.torn = true
		_ = j.cut() // if it fails, the next write tries again first
		return fmt.Errorf("watch journal %s: %w", j.path, err)
	}
	j.size += int64(n)
	return nil
}

// cut drops what is in the file past its whole records, and what the
// writer holds.
func (j *Journal) cut() error {
	j.w.Reset(j.f)
	err := j.f.Truncate(j.size)
	if err == nil {
		// f is O_APPEND, but not after a rewrite (a temporary file).
		_, err = j.f.Seek(j.size, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("watch journal %s: cutting back to %d bytes: %w", j.path, j.size, err)
	}
	j.torn = false
	return nil
}

// Flush writes what is buffered to the file. Each record is written
// whole as it comes, so there is nothing left to write but an error.
func (j *Journal) Flush() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("watch journal %s: %w", j.path, err)
	}
	return nil
}

// Close flushes and closes the journal.
func (j *Journal) Close() error {
	err := j.Flush()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
