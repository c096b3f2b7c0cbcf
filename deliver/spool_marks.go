package deliver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The markers of a spooled message, the names its envelope takes:
//
//	<id>.env      waiting
//	<id>.sending  a flush is offering it (under the .eml's flock); left
//	              alone, a flush was killed while it sent, or could not
//	              put it back: it may never have reached the server, so
//	              it is offered again (a duplicate is possible, no loss)
//	<id>.sent     the server accepted it; not removed yet: never sent again
//
// A .sending followed by sentMark says sent as well: it is written when
// the spool dir takes no new name (.sent) but its files can still be
// written, so that a spool turned read-only never sends one twice.
const sentMark = "\nsent\n"

// offer sends a locked message unless its markers say not to.
func (s Spool) offer(r result, base string, send func(Spooled) error) result {
	switch {
	case present(base + ".sent"):
		r.AlreadySent, r.Err = true, s.clean(base, ".sent")
		return r
	case present(base + ".env"):
		// A stale .sending beside it: a flush of an older saltmail
		// rewrote the envelope and could not remove the marker.
		if err := fsRemove(base + ".sending"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.Err = fmt.Errorf("not sent: %w", err)
			return r
		}
	case present(base + ".sending"):
		if sentInPlace(base + ".sending") {
			r.AlreadySent, r.Err = true, s.clean(base, ".sending")
			return r
		}
		// No flush holds it (we have its lock): one was killed.
		if err := fsRename(base+".sending", base+".env"); err != nil {
			r.Err = fmt.Errorf("not sent, since it could not be put back after a flush stopped while sending it: %w", err)
			return r
		}
	}
	env, err := readEnvelope(base + ".env")
	if err != nil {
		return s.fail(r, base, err.Error(), nil)
	}
	r.env = env
	if noRecipient(env) {
		return s.fail(r, base, "the envelope names no recipient", nil)
	}
	if env.RecipientsFromConfig && len(env.To) == 0 && s.Address != nil {
		lock, err := s.address(&r, base)
		if err != nil {
			r.Err = fmt.Errorf("not sent: %w", err)
			return r
		}
		defer lock.Close()
	}
	return s.mark(r, base, send)
}

// mark marks a message as being sent, sends it and records the outcome.
func (s Spool) mark(r result, base string, send func(Spooled) error) result {
	if err := fsRename(base+".env", base+".sending"); err != nil {
		r.Err = fmt.Errorf("not sent, since it could not be marked as being sent: %w", err)
		return r
	}
	syncDir(s.Dir)
	err := send(Spooled{Path: base + ".eml", Env: r.env, Msg: r.msg})
	if err == nil {
		r.Sent, r.Err = true, s.sent(base)
		return r
	}
	if left := Undelivered(err, r.env.To); len(left) < len(r.env.To) {
		// Some recipients got it now: keep it for the others only.
		r.env.To = left
	}
	if !errors.Is(err, ErrStopped) {
		r.env.Reason = err.Error()
	}
	if refusedForGood(err) {
		return s.fail(r, base, err.Error(), &r.env)
	}
	r.Err = err
	if werr := s.release(base, r.env); werr != nil {
		r.Err = fmt.Errorf("%w; and it could not be put back (%v): a later flush offers it again", err, werr)
	}
	return r
}

// sent records a sent message as such, then removes it.
func (s Spool) sent(base string) error {
	marker := ".sent"
	if err := fsRename(base+".sending", base+".sent"); err != nil {
		// The dir takes no new name; the marker may still take a line.
		if aerr := fsAppend(base+".sending", []byte(sentMark)); aerr != nil {
			return fmt.Errorf("sent, but could not be marked as sent (%v; %v): a later flush will send it again", err, aerr)
		}
		marker = ".sending"
	}
	syncDir(s.Dir)
	if err := s.clean(base, marker); err != nil {
		return fmt.Errorf("sent, but %w", err)
	}
	return nil
}

// clean removes a sent message, then its marker.
func (s Spool) clean(base, marker string) error {
	for _, ext := range []string{".eml", marker} {
		if err := fsRemove(base + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("could not be removed; it will not be sent again: %w", err)
		}
	}
	syncDir(s.Dir)
	return nil
}

// release puts a message that was not sent back for a later flush, with
// the envelope narrowed to those it did not reach. The narrowing is
// written into the marker first, so that even a message that cannot be
// put back is offered only to those.
func (s Spool) release(base string, env Envelope) error {
	if err := writeEnvelope(base+".sending", env); err != nil {
		return err
	}
	if err := fsRename(base+".sending", base+".env"); err != nil {
		return err
	}
	syncDir(s.Dir)
	return nil
}

// sweep removes the markers of sent messages that are gone.
func (s Spool) sweep() {
	for _, ext := range []string{".sent", ".sending"} {
		marks, _ := filepath.Glob(filepath.Join(s.Dir, "*"+ext))
		for _, m := range marks {
			if !present(strings.TrimSuffix(m, ext) + ".eml") {
				_ = fsRemove(m)
			}
		}
	}
}

// readMarker reads a .sending: its envelope, and whether sentMark
// follows it.
func readMarker(path string) (Envelope, bool, error) {
	var env Envelope
	raw, err := readFile(path)
	if err != nil {
		return env, false, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&env); err != nil {
		return env, false, err
	}
	return env, len(bytes.TrimSpace(raw[d.InputOffset():])) > 0, nil
}

// sentInPlace: the .sending at path says its message was sent.
func sentInPlace(path string) bool {
	_, sent, _ := readMarker(path)
	return sent
}

// appendFile appends data to an existing regular file and syncs it.
func appendFile(path string, data []byte) error {
	f, err := openFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func present(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
