package deliver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Envelope is what a spooled message needs to be sent again without any
// recipient on the command line.
type Envelope struct {
	From    string    `json:"from"`
	To      []string  `json:"to"` // every recipient, Bcc included
	Reason  string    `json:"reason"`
	Spooled time.Time `json:"spooled"`
}

// Spool keeps undeliverable messages as <time>-<id>.eml (the exact
// bytes that would have been sent) with <time>-<id>.env (the envelope,
// JSON) beside it. Names sort oldest first.
type Spool struct {
	Dir string
}

// Put writes a message and its envelope atomically: each file is
// written under a temporary name, synced and renamed; the .eml comes
// last, so a flush never sees a message without its envelope.
func (s Spool) Put(env Envelope, msg []byte) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("spool %s: %w", s.Dir, err)
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("spool id: %w", err)
	}
	base := filepath.Join(s.Dir, env.Spooled.UTC().Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(id[:]))
	if err := writeEnvelope(base+".env", env); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := WriteFileAtomic(base+".eml", msg); err != nil {
		os.Remove(base + ".env")
		return "", fmt.Errorf("spool: %w", err)
	}
	syncDir(s.Dir)
	return base + ".eml", nil
}

// writeEnvelope writes the .env file beside a spooled message.
func writeEnvelope(path string, env Envelope) error {
	raw, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, raw)
}

// WriteFileAtomic writes data to path with mode 0600 so that a reader
// sees the old file or the new one, never a part: a temporary file in
// the same directory, synced, then renamed over path.
func WriteFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Spooled is one message taken from the spool by Flush.
type Spooled struct {
	Path string
	Env  Envelope
	Msg  []byte
}

// Flush offers every spooled message, oldest first, to send, and
// removes each only after send accepted it. A message another process
// is flushing at the same moment is skipped (it holds an flock on the
// .eml), so two flushes never send one file twice. done hears each
// outcome. It returns how many were sent and how many are left.
func (s Spool) Flush(send func(Spooled) error, done func(Spooled, error)) (sent, left int, err error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	if err != nil {
		return 0, 0, err
	}
	sort.Strings(names)
	for _, path := range names {
		ok, err := s.flushOne(path, send, done)
		switch {
		case err != nil:
			left++
		case ok:
			sent++
		}
	}
	return sent, left, nil
}

// flushOne returns ok when the message was sent and removed; false with
// no error when another process had it or it was already gone.
func (s Spool) flushOne(path string, send func(Spooled) error, done func(Spooled, error)) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false, nil // another flush holds it
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	// Another flush may have sent and removed it between our open and
	// our lock: only the file still at this path is ours to send.
	st, err := os.Stat(path)
	if err != nil {
		return false, nil
	}
	if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
		return false, nil
	}
	msg, err := io.ReadAll(f)
	if err != nil {
		return false, err
	}
	envPath := strings.TrimSuffix(path, ".eml") + ".env"
	raw, err := os.ReadFile(envPath)
	item := Spooled{Path: path, Msg: msg}
	if err == nil {
		err = json.Unmarshal(raw, &item.Env)
	}
	if err != nil {
		err = fmt.Errorf("envelope %s: %w", envPath, err)
		done(item, err)
		return false, err
	}
	if err := send(item); err != nil {
		if left := Undelivered(err, item.Env.To); len(left) < len(item.Env.To) {
			// Some recipients got it now: keep it for the others only.
			item.Env.To, item.Env.Reason = left, err.Error()
			if jerr := writeEnvelope(envPath, item.Env); jerr != nil {
				err = fmt.Errorf("%w; and the envelope could not be narrowed to them, so a flush would send it again to all: %v", err, jerr)
			}
		}
		done(item, err)
		return false, err
	}
	// Remove the message first: once it is gone no flush can pick it up.
	if err := os.Remove(path); err != nil {
		done(item, err)
		return false, err
	}
	os.Remove(envPath)
	done(item, nil)
	return true, nil
}
