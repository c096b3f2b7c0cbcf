package deliver

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is one message in the spool, as `saltmail flush --list` shows
// it.
type Entry struct {
	Path    string   // its .eml
	Failed  bool     // it is in failed/ and will not be offered again
	Env     Envelope // as far as it could be read
	Subject string   // decoded; "" when it cannot be read cheaply
	Reason  string   // why it waits (the last failure), or why it failed
}

// List returns the waiting messages, oldest first, then the failed
// ones. It locks, sends and changes nothing.
func (s Spool) List() ([]Entry, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	waiting, err := listDir(s.Dir, false)
	if err != nil {
		return nil, err
	}
	failedDir := filepath.Join(s.Dir, FailedDir)
	if err := CheckDir(failedDir); err != nil {
		return nil, err
	}
	failed, err := listDir(failedDir, true)
	return append(waiting, failed...), err
}

func listDir(dir string, failed bool) ([]Entry, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Entry, 0, len(names))
	for _, path := range names {
		base := strings.TrimSuffix(path, ".eml")
		e := Entry{Path: path, Failed: failed, Subject: subject(path)}
		env, err := readEnvelope(base + ".env")
		e.Env, e.Reason = env, env.Reason
		switch {
		case failed:
			raw, _ := readFile(base + ".reason")
			e.Reason = strings.TrimSpace(string(raw))
		case present(base + ".sent"):
			e.Reason = "sent; not removed yet"
		case present(base+".sending") && err != nil:
			var sent bool
			e.Env, sent, _ = readMarker(base + ".sending")
			e.Reason = "being sent, or a flush stopped while sending it: the next flush offers it again"
			if sent {
				e.Reason = "sent; not removed yet"
			}
		case err != nil:
			e.Reason = err.Error()
		}
		out = append(out, e)
	}
	return out, nil
}

// subject is a message's decoded Subject, read from its first 64 KiB.
func subject(path string) string {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return ""
	}
	m, err := mail.ReadMessage(bytes.NewReader(head))
	if err != nil {
		return ""
	}
	raw := m.Header.Get("Subject")
	if dec, err := new(mime.WordDecoder).DecodeHeader(raw); err == nil {
		return dec
	}
	return raw
}
