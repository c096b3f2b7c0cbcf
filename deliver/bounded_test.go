package deliver_test

import (
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
)

// floodLimit is how much a flooding fake server writes at most: far
// more than saltmail may read, little enough that a client without
// bounds fails the test instead of the machine.
const floodLimit = 16 << 20

// A server that sends a line without end, or lines without end, must
// not make saltmail buffer them: before TLS anyone on the path could.
func TestOverlongReplies(t *testing.T) {
	greet := func(c net.Conn) { c.Write([]byte("220 fake ESMTP\r\n")) }
	cases := []struct {
		name  string
		mode  string
		serve func(f *smtptest.Fake, c net.Conn)
		step  string // "": delivered
		bound string // which bound the reply overstepped
	}{
		{"greeting without line end", deliver.NoTLS, func(_ *smtptest.Fake, c net.Conn) {
			c.Write([]byte("220 "))
			smtptest.Flood(c, "x", floodLimit)
		}, "greeting", "a line"},
		{"endless 250- lines after EHLO", deliver.NoTLS, func(_ *smtptest.Fake, c net.Conn) {
			greet(c)
			if smtptest.Converse(c, "EHLO") != nil {
				smtptest.Flood(c, "250-x\r\n", floodLimit)
			}
		}, "ehlo", "the reply"},
		{"endless reply to STARTTLS, before TLS", deliver.StartTLS, func(_ *smtptest.Fake, c net.Conn) {
			greet(c)
			if smtptest.Converse(c, "STARTTLS", "STARTTLS") != nil {
				smtptest.Flood(c, "220-x\r\n", floodLimit)
			}
		}, "starttls", "the reply"},
		{"endless 250- lines inside STARTTLS", deliver.StartTLS, func(f *smtptest.Fake, c net.Conn) {
			greet(c)
			if smtptest.Converse(c, "STARTTLS", "STARTTLS") == nil {
				return
			}
			c.Write([]byte("220 go ahead\r\n"))
			tc := tls.Server(c, f.TLS)
			if smtptest.Converse(tc, "EHLO") != nil {
				smtptest.Flood(tc, "250-x\r\n", floodLimit)
			}
		}, "ehlo", "the reply"},
		{"implicit TLS greeting without line end", deliver.ImplicitTLS, func(f *smtptest.Fake, c net.Conn) {
			tc := tls.Server(c, f.TLS)
			tc.Write([]byte("220 "))
			smtptest.Flood(tc, "x", floodLimit)
		}, "greeting", "a line"},
		{"RCPT reply of long lines, each short enough", deliver.ImplicitTLS, func(f *smtptest.Fake, c net.Conn) {
			tc := tls.Server(c, f.TLS)
			greet(tc)
			if smtptest.Converse(tc, "RCPT") != nil {
				smtptest.Flood(tc, "250-"+strings.Repeat("x", 900)+"\r\n", floodLimit)
			}
		}, "rcpt to b@example.com", "the reply"},
		{"long lines within the slack are read", deliver.NoTLS, func(_ *smtptest.Fake, c net.Conn) {
			c.Write([]byte("220 " + strings.Repeat("x", 600) + "\r\n"))
			smtptest.Converse(c, "", strings.Repeat("X", 900), "8BITMIME")
		}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := smtptest.StartFake(t, c.serve)
			cl := &deliver.SMTP{Host: f.Host, Port: f.Port, TLS: c.mode, RootCAs: f.Pool, HELO: "master1", Timeout: 2 * time.Second}
			alloc := totalAlloc()
			_, err := deliver.Send(cl.Dial, "a@example.com", []string{"b@example.com"}, msg, deliver.Retry{Attempts: 1})
			// What saltmail buffered stays far below what the server sent.
			if a := totalAlloc() - alloc; a > 4<<20 {
				t.Errorf("allocated %d bytes", a)
			}
			if c.step == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var de *deliver.Error
			if !errors.As(err, &de) || de.Step != c.step || !de.Temporary || !strings.Contains(err.Error(), "reply is too long: "+c.bound) {
				t.Fatalf("err %v, want a temporary error at %s saying the reply is too long (%s)", err, c.step, c.bound)
			}
			if !deliver.IsConnectionFailure(err) {
				t.Errorf("%v is not a connection failure", err)
			}
		})
	}
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// The session speaks SMTP itself: what net/smtp did for it must hold.
func TestSessionQuirks(t *testing.T) {
	greet := func(c net.Conn) { c.Write([]byte("220 fake ESMTP\r\n")) }
	cases := []struct {
		name  string
		mode  string
		serve func(f *smtptest.Fake, c net.Conn)
		fault string // "": delivered
	}{
		{"EHLO refused: HELO", deliver.NoTLS, func(_ *smtptest.Fake, c net.Conn) {
			greet(c)
			if smtptest.Converse(c, "EHLO") != nil {
				c.Write([]byte("502 what?\r\n"))
				smtptest.Converse(c, "")
			}
		}, ""},
		// Anyone on the path could append a reply, to be read under TLS.
		{"bytes behind the reply to STARTTLS", deliver.StartTLS, func(_ *smtptest.Fake, c net.Conn) {
			greet(c)
			if smtptest.Converse(c, "STARTTLS", "STARTTLS") != nil {
				c.Write([]byte("220 go ahead\r\n250 injected\r\n"))
				smtptest.Converse(c, "")
			}
		}, "starttls: the server sent more than its reply to STARTTLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := smtptest.StartFake(t, c.serve)
			cl := &deliver.SMTP{Host: f.Host, Port: f.Port, TLS: c.mode, RootCAs: f.Pool, HELO: "master1", Timeout: 2 * time.Second}
			_, err := deliver.Send(cl.Dial, "a@example.com", []string{"b@example.com"}, msg, deliver.Retry{Attempts: 1})
			if c.fault == "" && err != nil || c.fault != "" && !strings.Contains(errString(err), c.fault) {
				t.Fatalf("err %v, want %q", err, c.fault)
			}
		})
	}
}
