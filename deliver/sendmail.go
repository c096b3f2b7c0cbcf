package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
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

// Bounds on a sendmail program: how long its pipes may stay open once
// it exited or was killed (a helper it started may hold them for
// ever), and how much of its output is kept for the error message.
const (
	sendmailWaitDelay = 3 * time.Second
	sendmailTail      = 4 << 10
)

// Send runs `sendmail -i -f FROM -- RCPT...` with the message on stdin,
// its lines ending in LF as a local MTA expects. The program runs in a
// process group of its own, killed as a whole on time-out, so that no
// helper it started outlives it and holds saltmail; helpers it leaves
// behind after a normal exit (a queue runner) are the MTA's and live on.
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
	out := &tailBuffer{max: sendmailTail}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var timedOut atomic.Bool // Cancel runs only when the time-out came first
	cmd.Cancel = func() error {
		timedOut.Store(true)
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = sendmailWaitDelay
	err := cmd.Run()
	if err == nil || (errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState.Success()) {
		return nil // it exited 0: the message is the MTA's, whatever holds its output
	}
	detail := strings.TrimSpace(string(out.b))
	if len(detail) > 300 {
		detail = detail[len(detail)-300:]
	}
	e := &Error{Step: "sendmail", Err: fmt.Errorf("%s: %w: %s", s.Path, err, detail), Temporary: true}
	var ee *exec.ExitError
	switch {
	case timedOut.Load():
		e.Err = fmt.Errorf("%s: no answer within %v", s.Path, s.Timeout)
	case errors.As(err, &ee):
		e.Temporary = ee.ExitCode() == exTempFail
	case errors.Is(err, exec.ErrNotFound):
		e.Temporary = false
	}
	return e
}

// tailBuffer keeps the last max bytes written to it: a program's output
// is read to its end (so the program is not blocked), but never held.
type tailBuffer struct {
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		p = p[len(p)-t.max:]
		t.b = t.b[:0]
	}
	if over := len(t.b) + len(p) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	t.b = append(t.b, p...)
	return n, nil
}
