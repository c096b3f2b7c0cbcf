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

// Spool keeps undeliverable messages as <time>-<id>.eml (the exact
// bytes that would have been sent) with <time>-<id>.env (the envelope,
// JSON) beside it. Names sort oldest first. While a flush offers a
// message its envelope is <id>.sending, once sent <id>.sent, so that no
// flush sends it twice; what can never be sent goes to failed/ (see
// moveAside). Dir must be safe (CheckDir): Put and Flush refuse another.
type Spool struct {
	Dir string
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
	return WriteFileAtomic(path, raw)
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

// fsRename and fsRemove are os.Rename and os.Remove; tests make them
// fail as a spool turned read-only would.
var fsRename, fsRemove = os.Rename, os.Remove

// Flush offers every spooled message, oldest first, to send. A message
// is marked as being sent before it is offered and as sent before it is
// removed, so that none is sent twice by saltmail, even when the spool
// turns read-only or a flush is killed; one marked but not known sent
// goes to failed/. A message another process is flushing at the same
// moment is skipped (it holds an flock on the .eml). done hears each
// outcome. It returns how many were sent now and how many still need a
// later flush or a human (what went to failed/ does not count).
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

// offer sends a locked message unless its markers say not to.
func (s Spool) offer(r result, base string, send func(Spooled) error) result {
	switch {
	case present(base + ".sent"):
		r.AlreadySent, r.Err = true, s.clean(base)
		return r
	case present(base + ".env"):
		// A stale .sending beside it: an earlier flush failed to send,
		// rewrote the envelope, and could not remove the marker.
		if err := fsRemove(base + ".sending"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.Err = fmt.Errorf("not sent: %w", err)
			return r
		}
	case present(base + ".sending"):
		return s.fail(r, base, "a flush stopped while sending it, or could not record that it was sent: it may have been delivered, so it is not sent again", nil)
	}
	env, err := readEnvelope(base + ".env")
	if err != nil {
		return s.fail(r, base, err.Error(), nil)
	}
	r.env = env
	if noRecipient(env) {
		return s.fail(r, base, "the envelope names no recipient", nil)
	}
	if err := fsRename(base+".env", base+".sending"); err != nil {
		r.Err = fmt.Errorf("not sent, since it could not be marked as being sent: %w", err)
		return r
	}
	syncDir(s.Dir)
	err = send(Spooled{Path: base + ".eml", Env: env, Msg: r.msg})
	if err == nil {
		r.Sent, r.Err = true, s.sent(base)
		return r
	}
	if left := Undelivered(err, env.To); len(left) < len(env.To) {
		// Some recipients got it now: keep it for the others only.
		r.env.To = left
	}
	r.env.Reason = err.Error()
	if refusedForGood(err) {
		return s.fail(r, base, err.Error(), &r.env)
	}
	r.Err = err
	if werr := s.release(base, r.env); werr != nil {
		r.Err = fmt.Errorf("%w; and it could not be put back for a later flush (%v), which will move it to failed/", err, werr)
	}
	return r
}

// sent records a sent message as such, then removes it.
func (s Spool) sent(base string) error {
	if err := fsRename(base+".sending", base+".sent"); err != nil {
		return fmt.Errorf("sent, but could not be marked as sent: a later flush will not send it again: %w", err)
	}
	syncDir(s.Dir)
	if err := s.clean(base); err != nil {
		return fmt.Errorf("sent, but %w", err)
	}
	return nil
}

// clean removes a sent message, then its marker.
func (s Spool) clean(base string) error {
	for _, ext := range []string{".eml", ".sent"} {
		if err := fsRemove(base + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("could not be removed; it will not be sent again: %w", err)
		}
	}
	syncDir(s.Dir)
	return nil
}

// release puts a message that was not sent back for a later flush, with
// the envelope narrowed to those it did not reach.
func (s Spool) release(base string, env Envelope) error {
	if err := writeEnvelope(base+".env", env); err != nil {
		return err
	}
	return fsRemove(base + ".sending")
}

// sweep removes the markers of sent messages that are gone.
func (s Spool) sweep() {
	marks, _ := filepath.Glob(filepath.Join(s.Dir, "*.sent"))
	for _, m := range marks {
		if !present(strings.TrimSuffix(m, ".sent") + ".eml") {
			_ = fsRemove(m)
		}
	}
}

func present(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
