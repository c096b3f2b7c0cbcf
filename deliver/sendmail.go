package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"gopkg.in/gomail.v2"
)

// Sendmail pipes messages to a local MTA's sendmail program, as cron's
// MAILTO does. The envelope goes on the command line (-f FROM -- RCPT...):
// with -t the MTA would read recipients from headers, and gomail writes
// no Bcc header, so Bcc recipients would be lost.
type Sendmail struct {
	Path    string
	Timeout time.Duration
	// Env is the program's environment; nil inherits saltmail's. The
	// caller leaves its secrets out.
	Env []string
}

// Validate checks the configuration before any I/O.
func (s *Sendmail) Validate() error {
	if s.Path == "" {
		return &ConfigError{"Path", "no sendmail program given"}
	}
	if s.Timeout <= 0 {
		return &ConfigError{"Timeout", fmt.Sprintf("%v must be positive", s.Timeout)}
	}
	return nil
}

// Dial returns a sender; each Send runs the program once.
func (s *Sendmail) Dial() (gomail.SendCloser, error) { return s, nil }

// Close has nothing to close.
func (s *Sendmail) Close() error { return nil }

// exTempFail is sendmail's exit status for "try again later".
const exTempFail = 75

// Send runs `sendmail -i -f FROM -- RCPT...` with the message on stdin,
// its lines ending in LF as a local MTA expects.
func (s *Sendmail) Send(from string, to []string, msg io.WriterTo) error {
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return permanent("sendmail", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	args := append([]string{"-i", "-f", from, "--"}, to...)
	cmd := exec.CommandContext(ctx, s.Path, args...)
	cmd.Env = s.Env
	cmd.Stdin = bytes.NewReader(bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n")))
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	detail := strings.TrimSpace(string(out))
	if len(detail) > 300 {
		detail = detail[len(detail)-300:]
	}
	e := &Error{Step: "sendmail", Err: fmt.Errorf("%s: %w: %s", s.Path, err, detail), Temporary: true}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		e.Err = fmt.Errorf("%s: no answer within %v", s.Path, s.Timeout)
	case errors.As(err, &ee):
		e.Temporary = ee.ExitCode() == exTempFail
	case errors.Is(err, exec.ErrNotFound):
		e.Temporary = false
	}
	return e
}
