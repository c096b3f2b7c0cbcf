package deliver_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
	"gopkg.in/gomail.v2"
)

var msg = []byte("From: <salt@example.com>\r\nTo: <ops@example.com>\r\nSubject: [salt] web1: 1 failed\r\n\r\nminion1:\r\n----------\r\n          ID: fail_test\r\n")

func client(s *smtptest.Server, mode string) *deliver.SMTP {
	return &deliver.SMTP{Host: s.Host, Port: s.Port, TLS: mode, RootCAs: s.Pool, HELO: "master1", Timeout: 2 * time.Second}
}

func noSleep(waits *[]time.Duration) deliver.Retry {
	return deliver.Retry{Attempts: 4, Backoff: 2 * time.Second, Sleep: func(d time.Duration) { *waits = append(*waits, d) }}
}

func TestTransports(t *testing.T) {
	cases := []struct {
		name  string
		srv   smtptest.Options
		mode  string
		user  string
		trace []string
	}{
		{"plain", smtptest.Options{Mode: smtptest.Plain}, deliver.NoTLS, "", []string{"connect", "accepted"}},
		{"starttls", smtptest.Options{Mode: smtptest.StartTLS}, deliver.StartTLS, "", []string{"connect", "starttls", "accepted"}},
		{"implicit tls", smtptest.Options{Mode: smtptest.TLS}, deliver.ImplicitTLS, "", []string{"connect", "tls", "accepted"}},
		{"starttls + AUTH PLAIN", smtptest.Options{Mode: smtptest.StartTLS, Users: map[string]string{"salt": "s3cret"}}, deliver.StartTLS, "salt", []string{"connect", "starttls", "auth", "accepted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := smtptest.Start(t, c.srv)
			cl := client(s, c.mode)
			if c.user != "" {
				cl.Username, cl.Password = c.user, c.srv.Users[c.user]
			}
			var steps []string
			cl.Trace = func(step, _ string) { steps = append(steps, step) }
			if err := cl.Validate(); err != nil {
				t.Fatal(err)
			}
			tries, err := deliver.Send(cl.Dial, "salt@example.com", []string{"ops@example.com", "audit@example.com"}, msg, deliver.Retry{Attempts: 1})
			if err != nil || tries != 1 {
				t.Fatalf("tries %d: %v", tries, err)
			}
			got := s.Messages()
			if len(got) != 1 || !bytes.Equal(got[0].Data, msg) || strings.Join(got[0].To, ",") != "ops@example.com,audit@example.com" || got[0].User != c.user {
				t.Fatalf("server got %+v", got)
			}
			if strings.Join(steps, ",") != strings.Join(c.trace, ",") {
				t.Errorf("trace %v, want %v", steps, c.trace)
			}
		})
	}
}

func TestRequiredSTARTTLS(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.Plain}) // hides STARTTLS
	var waits []time.Duration
	tries, err := deliver.Send(client(s, deliver.StartTLS).Dial, "a@example.com", []string{"b@example.com"}, msg, noSleep(&waits))
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || deliver.IsTemporary(err) || tries != 1 {
		t.Fatalf("tries %d, err %v", tries, err)
	}
	if len(s.Messages()) != 0 {
		t.Fatal("a message went out in clear")
	}
}

func TestWrongCertificateIsPermanent(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.TLS})
	cl := client(s, deliver.ImplicitTLS)
	cl.RootCAs = nil // the system's CAs do not know the test CA
	_, err := deliver.Send(cl.Dial, "a@example.com", []string{"b@example.com"}, msg, deliver.Retry{Attempts: 3, Sleep: func(time.Duration) {}})
	if err == nil || deliver.IsTemporary(err) {
		t.Fatalf("err %v", err)
	}
}

func TestPasswordNeverInClear(t *testing.T) {
	cl := &deliver.SMTP{Host: "smtp.example.com", Port: 25, TLS: deliver.NoTLS, Username: "u", Password: "p", Timeout: time.Second}
	if err := cl.Validate(); err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Fatalf("validate: %v", err)
	}
	cl.Host = "127.0.0.1"
	if err := cl.Validate(); err != nil {
		t.Fatalf("loopback: %v", err)
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name      string
		fail      []error
		tries     int
		delivered int
		temporary bool
		waits     []time.Duration
		code      int
	}{
		{"4xx once, then accepted", []error{smtptest.Temp}, 2, 1, false, []time.Duration{2 * time.Second}, 0},
		{"5xx is not retried", []error{smtptest.Perm}, 1, 0, false, nil, 554},
		{"4xx every time", []error{smtptest.Temp, smtptest.Temp, smtptest.Temp, smtptest.Temp}, 4, 0, true, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, 451},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, FailData: c.fail})
			var waits []time.Duration
			tries, err := deliver.Send(client(s, deliver.StartTLS).Dial, "a@example.com", []string{"b@example.com"}, msg, noSleep(&waits))
			if tries != c.tries || len(s.Messages()) != c.delivered {
				t.Errorf("tries %d, delivered %d: %v", tries, len(s.Messages()), err)
			}
			if (err == nil) != (c.delivered == 1) {
				t.Errorf("err %v", err)
			}
			var de *deliver.Error
			if err != nil && (!errors.As(err, &de) || de.Code != c.code || de.Temporary != c.temporary) {
				t.Errorf("error %#v", err)
			}
			if len(waits) != len(c.waits) || (len(waits) > 0 && waits[len(waits)-1] != c.waits[len(c.waits)-1]) {
				t.Errorf("waits %v, want %v", waits, c.waits)
			}
		})
	}
}

// A recipient the server refuses must not cost the others the alert.
func TestRefusedRecipients(t *testing.T) {
	const ops, bad, busy = "ops@example.com", "gone@example.com", "busy@example.com"
	cases := []struct {
		name   string
		refuse map[string][]error
		to     []string
		// what the server received, one message per line of recipients
		got   []string
		tries int
		left  []string // Undelivered
		temp  bool
	}{
		{"one unknown: the other gets it, no retry",
			map[string][]error{bad: {smtptest.NoMailbox}}, []string{ops, bad},
			[]string{ops}, 1, []string{bad}, false},
		{"one busy once: it alone is offered again",
			map[string][]error{busy: {smtptest.MailboxBusy}}, []string{ops, busy},
			[]string{ops, busy}, 2, nil, false},
		{"unknown and busy for good",
			map[string][]error{bad: {smtptest.NoMailbox}, busy: {smtptest.MailboxBusy, smtptest.MailboxBusy, smtptest.MailboxBusy, smtptest.MailboxBusy}}, []string{bad, ops, busy},
			[]string{ops}, 4, []string{bad, busy}, true},
		{"every recipient unknown",
			map[string][]error{bad: {smtptest.NoMailbox}, ops: {smtptest.NoMailbox}}, []string{ops, bad},
			nil, 1, []string{ops, bad}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, RefuseRcpt: c.refuse})
			var waits []time.Duration
			tries, err := deliver.Send(client(s, deliver.StartTLS).Dial, "salt@example.com", c.to, msg, noSleep(&waits))
			var got []string
			for _, m := range s.Messages() {
				if !bytes.Equal(m.Data, msg) {
					t.Errorf("message changed: %q", m.Data)
				}
				got = append(got, strings.Join(m.To, ","))
			}
			if strings.Join(got, " ") != strings.Join(c.got, " ") || tries != c.tries {
				t.Errorf("server got %q in %d tries, want %q in %d", got, tries, c.got, c.tries)
			}
			left := deliver.Undelivered(err, c.to)
			if strings.Join(left, ",") != strings.Join(c.left, ",") {
				t.Errorf("undelivered %q, want %q (%v)", left, c.left, err)
			}
			if err != nil && (deliver.IsTemporary(err) != c.temp || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %q, temporary %v", err, deliver.IsTemporary(err))
			}
			for _, to := range c.left {
				if !strings.Contains(errString(err), to) {
					t.Errorf("error %q does not name %s", err, to)
				}
			}
		})
	}
}

// A session that breaks after some recipients got the message names the
// rest, not everyone: a flush must not send it twice.
func TestRetryAfterPartialDelivery(t *testing.T) {
	const ops, busy = "ops@example.com", "busy@example.com"
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, RefuseRcpt: map[string][]error{busy: {smtptest.MailboxBusy}}})
	tries := 0
	dial := func() (gomail.SendCloser, error) {
		tries++
		if tries > 1 {
			s.Close() // the server goes away after the first try
		}
		return client(s, deliver.StartTLS).Dial()
	}
	_, err := deliver.Send(dial, "salt@example.com", []string{ops, busy}, msg, deliver.Retry{Attempts: 2, Sleep: func(time.Duration) {}})
	if left := deliver.Undelivered(err, []string{ops, busy}); strings.Join(left, ",") != busy {
		t.Errorf("undelivered %q, want only %s (%v)", left, busy, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// IsConnectionFailure tells a failed session, which the rest of a run
// would meet too, from a server's answer to one message.
func TestIsConnectionFailure(t *testing.T) {
	once := func(cl deliver.Dialer, to ...string) error {
		if len(to) == 0 {
			to = []string{"b@example.com"}
		}
		_, err := deliver.Send(cl, "a@example.com", to, msg, deliver.Retry{Attempts: 1})
		return err
	}
	smtpWith := func(t *testing.T, o smtptest.Options) *deliver.SMTP {
		return client(smtptest.Start(t, o), deliver.NoTLS)
	}
	sendmail := func(t *testing.T, script string) deliver.Dialer {
		path := filepath.Join(t.TempDir(), "sendmail")
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return (&deliver.Sendmail{Path: path, Timeout: 200 * time.Millisecond}).Dial
	}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	cases := []struct {
		name string
		err  func(t *testing.T) error
		want bool
	}{
		{"connection refused", func(t *testing.T) error {
			host, port := smtptest.Refused(t)
			return once((&deliver.SMTP{Host: host, Port: port, TLS: deliver.NoTLS, Timeout: time.Second}).Dial)
		}, true},
		{"no STARTTLS offered", func(t *testing.T) error {
			return once(client(smtptest.Start(t, smtptest.Options{Mode: smtptest.Plain}), deliver.StartTLS).Dial)
		}, true},
		{"AUTH refused", func(t *testing.T) error {
			cl := smtpWith(t, smtptest.Options{Users: map[string]string{"salt": "right"}})
			cl.Username, cl.Password = "salt", "wrong"
			return once(cl.Dial)
		}, true},
		{"connection reset in DATA", func(*testing.T) error {
			return &deliver.Error{Step: "data", Temporary: true, Err: reset}
		}, true},
		{"421 at MAIL: the server closes", func(*testing.T) error {
			return &deliver.Error{Step: "mail from", Code: 421, Temporary: true, Err: errors.New("421 shutting down")}
		}, true},
		{"sendmail not found", func(t *testing.T) error {
			return once((&deliver.Sendmail{Path: "/nonexistent/sendmail", Timeout: time.Second}).Dial)
		}, true},
		{"sendmail hangs", func(t *testing.T) error { return once(sendmail(t, "exec sleep 5")) }, true},
		{"a later try could not connect", func(*testing.T) error {
			return &deliver.RecipientsError{Refused: []deliver.Refusal{{To: "b@example.com", Err: &deliver.Error{Step: "connect", Temporary: true, Err: reset}}}}
		}, true},
		{"5xx at DATA", func(t *testing.T) error {
			return once(smtpWith(t, smtptest.Options{FailData: []error{smtptest.Perm}}).Dial)
		}, false},
		{"4xx at DATA", func(t *testing.T) error {
			return once(smtpWith(t, smtptest.Options{FailData: []error{smtptest.Temp}}).Dial)
		}, false},
		{"recipients refused at RCPT", func(t *testing.T) error {
			return once(smtpWith(t, smtptest.Options{RefuseRcpt: map[string][]error{"b@example.com": {smtptest.NoMailbox}}}).Dial)
		}, false},
		{"a line break in an address", func(t *testing.T) error {
			return once(smtpWith(t, smtptest.Options{}).Dial, "b@example.com>\r\nRCPT TO:<c@example.com")
		}, false},
		{"sendmail says no", func(t *testing.T) error { return once(sendmail(t, "cat >/dev/null; exit 75")) }, false},
		{"an error deliver does not know", func(*testing.T) error { return errors.New("what?") }, false},
		{"no error", func(*testing.T) error { return nil }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err(t)
			if (err == nil) != (c.name == "no error") {
				t.Fatalf("err %v", err)
			}
			if got := deliver.IsConnectionFailure(err); got != c.want {
				t.Errorf("IsConnectionFailure(%v) = %v, want %v", err, got, c.want)
			}
		})
	}
}
