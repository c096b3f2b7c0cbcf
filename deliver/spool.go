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
	// RecipientsFromConfig says the recipients are the configuration's
	// at flush time (a mail spooled before they were known). Such an
	// envelope with no To is not "no recipient"; Flush hands it to send
	// as it is, and sending it is the caller's.
	RecipientsFromConfig bool `json:"recipients_from_config,omitempty"`
}

// ErrStopped, wrapped in what a send given to Flush returns, says the
// flush was told to stop (a signal): the message is put back for a
// later flush, its last reason kept, and no other is offered.
var ErrStopped = errors.New("the flush was stopped")

// Spool keeps undeliverable messages as <time>-<id>.eml (the exact
// bytes that would have been sent) with <time>-<id>.env (the envelope,
// JSON) beside it. Names sort oldest first. While a flush offers a
// message its envelope is <id>.sending, once sent <id>.sent, so that no
// flush sends it twice; what can never be sent goes to failed/ (see
// moveAside). Dir must be safe (CheckDir): Put and Flush refuse another.
type Spool struct {
	Dir string
	// Address gives an entry kept before its recipients were known
	// (RecipientsFromConfig, no To) its envelope's From and To (Bcc
	// included) and the message its headers. Flush calls it under the
	// entry's lock before it is first offered and keeps the result in
	// the spool (see address). nil hands such an entry to send as it is.
	Address func(msg []byte) (Envelope, []byte, error)
}

// Check refuses a spool dir another user could write (CheckDir).
func (s Spool) Check() error {
	if err := CheckDir(s.Dir); err != nil {
		return fmt.Errorf("spool dir: %w", err)
	}
	return nil
}

// Put writes a message and its envelope atomically: each file is
// written under a temporary name, synced and renamed; the .eml comes
// last, so a flush never sees a message without its envelope.
func (s Spool) Put(env Envelope, msg []byte) (string, error) {
	if err := MakeDir(s.Dir); err != nil {
		return "", fmt.Errorf("spool dir: %w", err)
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
	return fsWrite(path, raw)
}

// Spooled is one message taken from the spool by Flush.
type Spooled struct {
	Path string
	Env  Envelope
	Msg  []byte
}

// Outcome is what a flush did with one spooled message.
type Outcome struct {
	// Sent: the server accepted it now. AlreadySent: an earlier flush
	// sent it but could not remove it; it was not sent again.
	Sent, AlreadySent bool
	// Failed is why it can never be sent as it is: it was moved to
	// failed/ (unless Err says that failed too).
	Failed string
	// Err is what still needs a later flush or a human.
	Err error
}

// fsRename, fsRemove, fsWrite and fsAppend are the spool's changes to
// files; tests make them fail as a spool turned read-only would.
var (
	fsRename, fsRemove = os.Rename, os.Remove
	fsWrite            = WriteFileAtomic
	fsAppend           = appendFile
)

// Flush offers every spooled message, oldest first, to send. A message
// is marked as being sent before it is offered and as sent before it is
// removed, so that none is sent twice by saltmail, even when the spool
// turns read-only; one marked as being sent but not known sent (a flush
// was killed) is offered again: it may arrive twice, it is never lost.
// A message another process is flushing at the same moment is skipped
// (it holds an flock on the .eml). done hears each outcome. When send
// returns ErrStopped, that message is put back and Flush returns. It
// returns how many were sent now and how many still need a later flush
// or a human (what went to failed/ does not count).
func (s Spool) Flush(send func(Spooled) error, done func(Spooled, Outcome)) (sent, left int, err error) {
	if err := s.Check(); err != nil {
		return 0, 0, err
	}
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	if err != nil {
		return 0, 0, err
	}
	sort.Strings(names)
	for _, path := range names {
		o, ok := s.flushOne(path, send)
		if !ok {
			continue
		}
		if o.Sent {
			sent++
		}
		if o.Err != nil {
			left++
		}
		done(Spooled{Path: path, Env: o.env, Msg: o.msg}, o.Outcome)
		if errors.Is(o.Err, ErrStopped) {
			break
		}
	}
	s.sweep()
	return sent, left, nil
}

// result is an Outcome with what was read of the message.
type result struct {
	Outcome
	env Envelope
	msg []byte
}

// flushOne handles one message under its flock; ok is false when
// another process had it or it was gone already.
func (s Spool) flushOne(path string, send func(Spooled) error) (r result, ok bool) {
	base := strings.TrimSuffix(path, ".eml")
	f, err := openFile(path, os.O_RDONLY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, false
	case errors.Is(err, ErrNotRegular):
		return s.fail(r, base, "the message is "+ErrNotRegular.Error(), nil), true
	case err != nil:
		r.Err = err
		return r, true
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return r, false // another flush holds it
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	// Another flush may have sent and removed it between our open and
	// our lock: only the file still at this path is ours to send.
	st, err := os.Lstat(path)
	if err != nil {
		return r, false
	}
	if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
		return r, false
	}
	if r.msg, err = io.ReadAll(f); err != nil {
		r.Err = fmt.Errorf("read %s: %w", path, err)
		return r, true
	}
	return s.offer(r, base, send), true
}
