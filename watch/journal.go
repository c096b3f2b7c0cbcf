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
type Journal struct {
	path string
	f    *os.File
	w    *bufio.Writer
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
	pending, err := replay(f, t)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("watch journal %s: %w", path, err)
	}
	return &Journal{path: path, f: f, w: bufio.NewWriter(f)}, pending, nil
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
	fmt.Fprintf(j.w, "%d\t%s\t%s\n", at.UnixNano(), ev.Tag, ev.Data)
	return j.Flush()
}

// Went records that a digest was delivered or spooled.
func (j *Journal) Went(key string, at time.Time) error {
	fmt.Fprintf(j.w, "%d\t%s\t%s\n", at.UnixNano(), digestedTag, key)
	if err := j.Flush(); err != nil {
		return err
	}
	return j.f.Sync()
}

// Flush writes what is buffered to the file (the page cache survives a
// kill -9; Went also syncs).
func (j *Journal) Flush() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("watch journal %s: %w", j.path, err)
	}
	return nil
}

// Compact empties the journal when nothing is in flight, so it does
// not grow for ever; what was digested is then forgotten on disk.
func (j *Journal) Compact(t *Tracker) error {
	if !t.Idle() {
		return nil
	}
	if err := j.Flush(); err != nil {
		return err
	}
	if err := j.f.Truncate(0); err != nil {
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
