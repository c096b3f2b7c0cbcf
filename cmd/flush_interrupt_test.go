package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// A flush stopped while it offers a message loses nothing. SIGTERM,
// SIGINT or SIGHUP (a cron time-out, systemd) put the message back and
// exit 128 + the signal; kill -9 leaves it marked as being sent, and
// the next flush offers it again (it may arrive twice, it is never
// lost). Either way the next flush delivers it, and nothing goes to
// failed/.
func TestFlushInterrupted(t *testing.T) {
	for _, c := range []struct {
		sig     syscall.Signal
		exit    int
		putBack bool // the envelope is back as .env, not .sending
	}{
		{syscall.SIGTERM, 128 + 15, true},
		{syscall.SIGINT, 128 + 2, true},
		{syscall.SIGHUP, 128 + 1, true},
		{syscall.SIGKILL, -1, false},
	} {
		t.Run(c.sig.String(), func(t *testing.T) {
			spool, base := spoolOne(t, "ops@example.com")
			port, reached := stallingServer(t)
			p := startSaltmail(t, t.TempDir(), os.DevNull, "flush", "--config", "/dev/null", "--spool-dir", spool,
				"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(port), "--smtp-tls", "none", "--smtp-timeout", "30s")
			if got := signalAtMail(t, p, reached, c.sig); got != c.exit {
				t.Errorf("exit %d, want %d", got, c.exit)
			}
			if !present(base+".eml") || present(base+".env") != c.putBack || present(base+".sending") == c.putBack {
				t.Errorf("after %v: .eml %v, .env %v, .sending %v", c.sig, present(base+".eml"), present(base+".env"), present(base+".sending"))
			}
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			code, stderr := flush(t, s, spool)
			msgs := s.Messages()
			if code != 0 || len(msgs) != 1 || strings.Join(msgs[0].To, ",") != "ops@example.com" || !bytes.Equal(msgs[0].Data, spooledMsg) {
				t.Fatalf("next flush: exit %d, %d mails, stderr %q", code, len(msgs), stderr)
			}
			if failed, _ := filepath.Glob(filepath.Join(spool, "failed", "*")); len(failed) != 0 {
				t.Errorf("moved to failed/: %v", failed)
			}
		})
	}
}

func present(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
