package deliver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// FailedDir is the spool's subdirectory for messages that can never be
// sent as they are (a missing or corrupt envelope, no recipient, a
// permanent refusal): each keeps its .eml and .env, with a .reason
// beside them. Flush never looks there, so each is told once; moving
// the .eml and .env back into the spool offers it again.
const FailedDir = "failed"

// fail moves a message aside for reason and says so in its outcome;
// env, when set, is its envelope as it is now.
func (s Spool) fail(r result, base, reason string, env *Envelope) result {
	r.Failed = reason
	if err := s.moveAside(base, reason, env); err != nil {
		r.Err = fmt.Errorf("can never be sent (%s), and could not be moved to %s/: %w", reason, FailedDir, err)
	}
	return r
}

// moveAside moves base.eml and its envelope to failed/ with a .reason
// file. The .eml goes last, so the spool keeps it until failed/ has the
// rest.
func (s Spool) moveAside(base, reason string, env *Envelope) error {
	dir := filepath.Join(s.Dir, FailedDir)
	if err := MakeDir(dir); err != nil {
		return err
	}
	to := filepath.Join(dir, filepath.Base(base))
	if err := WriteFileAtomic(to+".reason", []byte(reason+"\n")); err != nil {
		return err
	}
	if env != nil {
		if err := writeEnvelope(to+".env", *env); err != nil {
			return err
		}
	}
	for _, ext := range []string{".env", ".sending"} {
		var err error
		if env != nil {
			err = fsRemove(base + ext)
		} else {
			err = fsRename(base+ext, to+".env")
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := fsRename(base+".eml", to+".eml"); err != nil {
		return err
	}
	syncDir(dir)
	syncDir(s.Dir)
	return nil
}

// readEnvelope reads a spooled message's envelope; its errors are the
// reasons to move the message aside.
func readEnvelope(path string) (Envelope, error) {
	var env Envelope
	raw, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return env, errors.New("its envelope " + filepath.Base(path) + " is missing")
	case err != nil:
		return env, fmt.Errorf("its envelope is unreadable: %w", err)
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return env, fmt.Errorf("its envelope %s is corrupt: %w", filepath.Base(path), err)
	}
	return env, nil
}

// noRecipient: sending it would deliver nothing, yet count as sent.
func noRecipient(env Envelope) bool {
	if env.RecipientsFromConfig {
		return false
	}
	for _, to := range env.To {
		if strings.TrimSpace(to) != "" {
			return false
		}
	}
	return true
}

// refusedForGood says a permanent failure is the message's own: the
// server refused its recipients or its data for good (5xx). Any other
// permanent failure (a certificate, STARTTLS missing, AUTH refused, a
// sender refused at MAIL FROM, sendmail) is the configuration's and
// would befall every message alike: once it is mended they can go, so
// they keep waiting.
func refusedForGood(err error) bool {
	if IsTemporary(err) {
		return false
	}
	var re *RecipientsError
	if errors.As(err, &re) {
		return true
	}
	var de *Error
	if !errors.As(err, &de) {
		return false
	}
	return de.Code >= 500 && (de.Step == "data" || strings.HasPrefix(de.Step, "rcpt to"))
}
