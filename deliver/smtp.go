package deliver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"gopkg.in/gomail.v2"
)

// TLS modes of an SMTP connection.
const (
	StartTLS    = "starttls" // plain connect, then a required STARTTLS upgrade (ports 25, 587)
	ImplicitTLS = "tls"      // TLS from the first byte (port 465)
	NoTLS       = "none"     // clear text: only when asked for, never with a password off loopback
)

// SMTP is a checked SMTP configuration; Dial opens a session with it.
// gomail's own Dialer is not used: its STARTTLS is opportunistic, it
// has no deadlines, and its errors lose the reply code; nor is
// net/smtp's Client (see session).
type SMTP struct {
	Host               string
	Port               int
	TLS                string
	Username, Password string
	HELO               string
	RootCAs            *x509.CertPool // nil: the system's
	InsecureSkipVerify bool
	// Timeout bounds each step (connect, greeting, every command, every
	// write of DATA); six times it bounds the whole session, connect to
	// QUIT.
	Timeout time.Duration
	// Trace, when set, hears each step as it succeeds (test-mail).
	Trace func(step, detail string)
}

// Validate checks the configuration before any I/O. Its errors are
// *ConfigError naming the field at fault.
func (c *SMTP) Validate() error {
	if c.Host == "" {
		return &ConfigError{"Host", "no SMTP server given"}
	}
	switch c.TLS {
	case StartTLS, ImplicitTLS:
	case NoTLS:
		if c.Password != "" && !isLoopback(c.Host) {
			return &ConfigError{"TLS", fmt.Sprintf("%s would send the password to %s in clear; use %s or %s", NoTLS, c.Host, StartTLS, ImplicitTLS)}
		}
	default:
		return &ConfigError{"TLS", fmt.Sprintf("%q is not one of %s, %s, %s", c.TLS, StartTLS, ImplicitTLS, NoTLS)}
	}
	if c.Port < 1 || c.Port > 65535 {
		return &ConfigError{"Port", fmt.Sprintf("%d is not a port", c.Port)}
	}
	if c.Password != "" && c.Username == "" {
		return &ConfigError{"Username", "a password is set but no user"}
	}
	if c.Timeout <= 0 {
		return &ConfigError{"Timeout", fmt.Sprintf("%v must be positive", c.Timeout)}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *SMTP) trace(step, detail string) {
	if c.Trace != nil {
		c.Trace(step, detail)
	}
}

// Dial connects, reads the greeting, upgrades to TLS as configured and
// authenticates: the session is ready to Send. One deadline bounds it
// all, connect to QUIT.
func (c *SMTP) Dial() (gomail.SendCloser, error) {
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	end := time.Now().Add(c.deadline())
	d := net.Dialer{Timeout: c.Timeout, Deadline: end}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, classify("connect", err)
	}
	c.trace("connect", "connected to "+addr)
	conn := &deadlineConn{Conn: raw, step: c.Timeout, end: end, total: c.deadline()}
	tlsConf := &tls.Config{ServerName: c.Host, RootCAs: c.RootCAs, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	var nc net.Conn = conn
	if c.TLS == ImplicitTLS {
		tc := tls.Client(conn, tlsConf)
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return nil, classify("tls", err)
		}
		c.trace("tls", tlsDetail(tc.ConnectionState()))
		nc = tc
	}
	s := &smtpSender{s: newSession(nc, conn, c.Host), cfg: c}
	if err := s.s.greeting(); err != nil {
		s.s.close()
		return nil, classify("greeting", err)
	}
	if err := s.open(tlsConf); err != nil {
		s.s.close()
		return nil, err
	}
	return s, nil
}

type smtpSender struct {
	s   *session
	cfg *SMTP
}

func (s *smtpSender) open(tlsConf *tls.Config) error {
	c := s.cfg
	if err := s.s.hello(c.HELO); err != nil {
		return classify("ehlo", err)
	}
	if c.TLS == StartTLS {
		if ok, _ := s.s.extension("STARTTLS"); !ok {
			return permanent("starttls", errors.New("the server does not offer STARTTLS, which tls: starttls requires (tls: none sends in clear)"))
		}
		st, err := s.s.startTLS(tlsConf)
		if err != nil {
			return classify("starttls", err)
		}
		c.trace("starttls", tlsDetail(st))
		if err := s.s.hello(c.HELO); err != nil {
			return classify("ehlo", err)
		}
	}
	if c.Username == "" {
		return nil
	}
	ok, mechs := s.s.extension("AUTH")
	if !ok {
		return permanent("auth", errors.New("the server offers no AUTH, but a user is set"))
	}
	a, name, err := pickAuth(mechs, c.Username, c.Password, c.Host)
	if err != nil {
		return permanent("auth", err)
	}
	if err := s.s.auth(a); err != nil {
		return classify("auth", err)
	}
	c.trace("auth", "authenticated as "+c.Username+" with "+name)
	return nil
}

// Send gives one message to the server. A recipient the server refuses
// does not cost the others the alert: the message goes to those it
// accepts, and a *RecipientsError names the refused ones.
func (s *smtpSender) Send(from string, to []string, msg io.WriterTo) error {
	if err := s.s.reset(); err != nil {
		return classify("rset", err)
	}
	if err := s.s.mail(from); err != nil {
		return classify("mail from", err)
	}
	var refused []Refusal
	var accepted []string
	for _, r := range to {
		if err := s.s.rcpt(r); err != nil {
			err = classify("rcpt to "+r, err)
			var de *Error
			if errors.As(err, &de) && de.Code == 0 {
				return err // no reply: the session broke, nobody got it
			}
			refused = append(refused, Refusal{To: r, Err: err})
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		return &RecipientsError{Refused: refused}
	}
	w, err := s.s.data()
	if err != nil {
		return classify("data", err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		w.Close()
		return classify("data", err)
	}
	if err := w.Close(); err != nil {
		return classify("data", err)
	}
	s.cfg.trace("accepted", fmt.Sprintf("the server accepted the message for %s", strings.Join(accepted, ", ")))
	if len(refused) > 0 {
		return &RecipientsError{Refused: refused}
	}
	return nil
}

// Close says QUIT and closes the connection either way.
func (s *smtpSender) Close() error { return s.s.quit() }

func tlsDetail(st tls.ConnectionState) string {
	return fmt.Sprintf("%s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
}
