package deliver_test

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
)

// A server that drips a byte at a time never lets a step time out; one
// deadline for the whole session must end it anyway.
func TestSessionDeadline(t *testing.T) {
	const step, drip = 300 * time.Millisecond, 20 * time.Millisecond
	greet := func(c net.Conn) { c.Write([]byte("220 fake ESMTP\r\n")) }
	cases := []struct {
		name  string
		mode  string
		serve func(f *smtptest.Fake, c net.Conn)
		step  string
	}{
		{"greeting dripped", deliver.NoTLS, func(_ *smtptest.Fake, c net.Conn) {
			smtptest.Drip(c, "220-slow\r\n", drip)
		}, "greeting"},
		{"EHLO reply dripped inside TLS", deliver.ImplicitTLS, func(f *smtptest.Fake, c net.Conn) {
			tc := tls.Server(c, f.TLS)
			greet(tc)
			if smtptest.Converse(tc, "EHLO") != nil {
				smtptest.Drip(tc, "250-slow\r\n", drip)
			}
		}, "ehlo"},
		{"reply to the message dripped", deliver.NoTLS, func(_ *smtptest.Fake, c net.Conn) {
			greet(c)
			if smtptest.Converse(c, ".") != nil {
				smtptest.Drip(c, "250-slow\r\n", drip)
			}
		}, "data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := smtptest.StartFake(t, c.serve)
			cl := &deliver.SMTP{Host: f.Host, Port: f.Port, TLS: c.mode, RootCAs: f.Pool, HELO: "master1", Timeout: step}
			start := time.Now()
			tries, err := deliver.Send(cl.Dial, "a@example.com", []string{"b@example.com"}, msg, deliver.Retry{Attempts: 2, Sleep: func(time.Duration) {}})
			var de *deliver.Error
			if !errors.As(err, &de) || de.Step != c.step || !de.Temporary || !strings.Contains(err.Error(), "deadline") || tries != 2 {
				t.Fatalf("tries %d, err %v; want a temporary error at %s naming the deadline", tries, err, c.step)
			}
			if !deliver.IsConnectionFailure(err) {
				t.Errorf("%v is not a connection failure", err)
			}
			// Two tries of one deadline (6 steps) each; a step per
			// command would have let the drip run for ever.
			if el := time.Since(start); el > 2*12*step {
				t.Errorf("took %v", el)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	refusedHost, refusedPort := smtptest.Refused(t)
	silentHost, silentPort := smtptest.Silent(t)
	cases := []struct {
		name, host string
		port       int
		step       string
	}{
		{"connection refused", refusedHost, refusedPort, "connect"},
		{"server never answers", silentHost, silentPort, "greeting"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := &deliver.SMTP{Host: c.host, Port: c.port, TLS: deliver.StartTLS, Timeout: 300 * time.Millisecond}
			var waits []time.Duration
			start := time.Now()
			tries, err := deliver.Send(cl.Dial, "a@example.com", []string{"b@example.com"}, msg, noSleep(&waits))
			var de *deliver.Error
			if !errors.As(err, &de) || de.Step != c.step || !de.Temporary || tries != 4 {
				t.Fatalf("tries %d, err %v", tries, err)
			}
			// Four tries of at most a 300 ms step each: the deadline held.
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}

// A plaintext client on an implicit-TLS port must not hang.
func TestPlainClientOnTLSPort(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.TLS})
	cl := client(s, deliver.StartTLS)
	cl.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := deliver.Send(cl.Dial, "a@example.com", []string{"b@example.com"}, msg, deliver.Retry{Attempts: 1})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}
