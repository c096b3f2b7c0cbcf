// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// in-process on loopback, for the delivery tests: plain, STARTTLS or
// implicit TLS with a generated certificate, optional AUTH PLAIN, and
// scripted failures.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how the server speaks TLS.
type Mode int

const (
	Plain    Mode = iota // no TLS offered
	StartTLS             // STARTTLS offered
	TLS                  // implicit TLS
)

// Message is what the server received.
type Message struct {
	From string
	To   []string
	Data []byte
	User string // the authenticated user, if any
}

// Server is a running test server.
type Server struct {
	Host string
	Port int
	// CAPEM is the certificate to trust (it is its own CA).
	CAPEM []byte
	Pool  *x509.CertPool

	mu       sync.Mutex
	messages []Message
	// Fail holds errors to answer DATA with, one per message, before
	// accepting (e.g. a 451 once).
	fail   []error
	refuse map[string][]error
	srv    *smtp.Server
	ln     net.Listener
}

// Options configure a server.
type Options struct {
	Mode Mode
	// Users maps user to password; when set, AUTH PLAIN is offered and
	// required.
	Users map[string]string
	// FailData answers DATA with these errors, in order, before it
	// accepts.
	FailData []error
	// RefuseRcpt answers RCPT TO of a recipient with its errors, in
	// order, one per session that names it, before it accepts.
	RefuseRcpt map[string][]error
}

// Temp and Perm are SMTP replies for FailData; NoMailbox and
// MailboxBusy for RefuseRcpt.
var (
	Temp        = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	Perm        = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by policy"}
	NoMailbox   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	MailboxBusy = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy, try later"}
)

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{fail: append([]error(nil), o.FailData...), refuse: map[string][]error{}}
	for to, errs := range o.RefuseRcpt {
		s.refuse[to] = append([]error(nil), errs...)
	}
	cert, pemBytes := selfSigned(t)
	s.CAPEM = pemBytes
	s.Pool = x509.NewCertPool()
	s.Pool.AppendCertsFromPEM(pemBytes)
	be := &backend{s: s, users: o.Users}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.Mode == Plain
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch o.Mode {
	case StartTLS:
		srv.TLSConfig = tlsConf
	case TLS:
		srv.TLSConfig = tlsConf
		ln = tls.NewListener(ln, tlsConf)
	}
	s.srv, s.ln = srv, ln
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Close stops the server (to test a server that went away). The
// listener is closed here too: Serve may not have registered it yet.
func (s *Server) Close() {
	s.ln.Close()
	s.srv.Close()
}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

type backend struct {
	s     *Server
	users map[string]string
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b    *backend
	msg  Message
	user string
}

func (s *session) AuthMechanisms() []string {
	if s.b.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if p, ok := s.b.users[user]; !ok || p != pass {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.users != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = Message{From: from, User: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.s.mu.Lock()
	errs := s.b.s.refuse[to]
	if len(errs) > 0 {
		s.b.s.refuse[to] = errs[1:]
	}
	s.b.s.mu.Unlock()
	if len(errs) > 0 {
		return errs[0]
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.s.mu.Lock()
	defer s.b.s.mu.Unlock()
	if len(s.b.s.fail) > 0 {
		err := s.b.s.fail[0]
		s.b.s.fail = s.b.s.fail[1:]
		return err
	}
	s.msg.Data = data
	s.b.s.messages = append(s.b.s.messages, s.msg)
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "saltmail test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pemEncode("CERTIFICATE", der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes
}

// Silent accepts connections and never answers: a server that hangs.
func Silent(t testing.TB) (host string, port int) {
	t.Helper()
	f := StartFake(t, func(_ *Fake, c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // until the client goes or the test ends
	})
	return f.Host, f.Port
}

// Refused returns a loopback port nobody listens on.
func Refused(t testing.TB) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return "127.0.0.1", port
}
