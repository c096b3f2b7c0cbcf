package cmd

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// closingServer accepts each connection and closes it at once, before
// any greeting: a connection-level failure. It counts the connections.
func closingServer(t *testing.T) (int, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	f := smtptest.StartFake(t, func(*smtptest.Fake, net.Conn) { n.Add(1) })
	return f.Port, &n
}

// After a failure to reach the server at all, the rest of a run is
// spooled and the rest of a flush left at once: only the first message
// pays the retries (500 minions once took two hours).
func TestCircuitBreaker(t *testing.T) {
	port, conns := closingServer(t)
	spool := t.TempDir()
	args := []string{"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(port), "--smtp-tls", "none", "--retry-attempts", "3", "--retry-backoff", "1ms", "--spool-dir", spool}
	f, _, errb := fixedFactory(t, "")
	// per minion: a mail for the failed minion and one for the changed
	code := Main(f, append([]string{"--to", "ops@example.com", "--per-minion", "--state-dir", t.TempDir(), corpus("master/salt.state.apply.mixed.json.out")}, args...))
	kept, _ := filepath.Glob(filepath.Join(spool, "*.eml"))
	if code != 1 || len(kept) != 2 {
		t.Fatalf("exit %d, %d spooled: %s", code, len(kept), errb)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for 2 mails with 3 attempts each: want 3 (the second is not tried)", n)
	}
	conns.Store(0)
	f, _, errb = fixedFactory(t, "")
	if code := Main(f, append([]string{"flush"}, args...)); code != 1 {
		t.Errorf("flush: exit %d: %s", code, errb)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("flush: %d connections for 2 spooled mails: want 3", n)
	}
	if kept2, _ := filepath.Glob(filepath.Join(spool, "*.eml")); len(kept2) != 2 {
		t.Errorf("after flush %d wait, want 2", len(kept2))
	}
}

// A server that is up but refuses every message for now (451 at MAIL
// FROM) trips the breaker too: one message pays the retries, not each.
func TestBreakerOnTemporaryRefusal(t *testing.T) {
	var mails atomic.Int32
	s := smtptest.StartFake(t, func(_ *smtptest.Fake, c net.Conn) {
		fmt.Fprint(c, "220 fake ESMTP\r\n")
		for r := smtptest.Converse(c, "MAIL"); r != nil; r = smtptest.Converse(c, "MAIL") {
			mails.Add(1)
			fmt.Fprint(c, "451 try again later\r\n")
		}
	})
	spool := t.TempDir()
	f, _, errb := fixedFactory(t, "")
	args := []string{"--to", "ops@example.com", "--per-minion", "--state-dir", t.TempDir(), "--spool-dir", spool,
		"--smtp-host", s.Host, "--smtp-port", strconv.Itoa(s.Port), "--smtp-tls", "none", "--retry-attempts", "3", "--retry-backoff", "1ms",
		corpus("master/salt.state.apply.mixed.json.out")}
	if code := Main(f, args); code != 1 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if n := mails.Load(); n != 3 {
		t.Errorf("%d MAIL FROM for 2 mails with 3 attempts: want 3", n)
	}
}

// flush too: one spooled message pays the retries against a server that
// refuses every message for now, the rest waits at once.
func TestFlushBreakerOnTemporaryRefusal(t *testing.T) {
	port, _ := closingServer(t) // the run spools its two mails
	spool := t.TempDir()
	f, _, _ := fixedFactory(t, "")
	Main(f, []string{"--to", "ops@example.com", "--per-minion", "--state-dir", t.TempDir(), "--spool-dir", spool,
		"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(port), "--smtp-tls", "none", "--retry-attempts", "1",
		corpus("master/salt.state.apply.mixed.json.out")})
	var mails atomic.Int32
	s := smtptest.StartFake(t, func(_ *smtptest.Fake, c net.Conn) {
		fmt.Fprint(c, "220 fake ESMTP\r\n")
		for r := smtptest.Converse(c, "MAIL"); r != nil; r = smtptest.Converse(c, "MAIL") {
			mails.Add(1)
			fmt.Fprint(c, "451 try again later\r\n")
		}
	})
	f, _, errb := fixedFactory(t, "")
	code := Main(f, []string{"flush", "--spool-dir", spool, "--smtp-host", s.Host, "--smtp-port", strconv.Itoa(s.Port), "--smtp-tls", "none", "--retry-attempts", "3", "--retry-backoff", "1ms"})
	if code != 1 {
		t.Fatalf("flush: exit %d: %s", code, errb)
	}
	if n := mails.Load(); n != 3 {
		t.Errorf("%d MAIL FROM for 2 spooled mails with 3 attempts: want 3", n)
	}
}
