package deliver

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
)

// session is the few SMTP commands saltmail speaks (RFC 5321), on
// net/textproto. It is not net/smtp's Client because that one reads
// replies without bound and hides the layer under its textproto after
// STARTTLS: a bound there would count TLS records, not reply lines.
type session struct {
	raw   *deadlineConn // the socket, under any TLS
	conn  net.Conn      // raw, or TLS over it
	text  *textproto.Conn
	bound *boundedConn // under text
	host  string
	tls   bool
	ext   map[string]string // EHLO keywords and their parameters
}

func newSession(conn net.Conn, raw *deadlineConn, host string) *session {
	s := &session{raw: raw, host: host}
	s.use(conn)
	return s
}

// use speaks over conn from now on, its replies bounded.
func (s *session) use(conn net.Conn) {
	s.conn = conn
	_, s.tls = conn.(*tls.Conn)
	s.bound = &boundedConn{ReadWriteCloser: conn}
	s.text = textproto.NewConn(s.bound)
}

// reply reads one reply. When a bound cut it short, bufio hands the
// cut line up as if it had ended: that is no reply.
func (s *session) reply(expect int) (int, string, error) {
	code, msg, err := s.text.ReadResponse(expect)
	if s.bound.err != nil {
		return 0, "", s.bound.err
	}
	return code, msg, err
}

func (s *session) cmd(expect int, format string, args ...any) (int, string, error) {
	id, err := s.text.Cmd(format, args...)
	if err != nil {
		return 0, "", err
	}
	s.text.StartResponse(id)
	defer s.text.EndResponse(id)
	return s.reply(expect)
}

func (s *session) greeting() error {
	_, _, err := s.reply(220)
	return err
}

// hello says EHLO, or HELO to a server that refuses EHLO with a reply.
func (s *session) hello(name string) error {
	if err := validateLine(name); err != nil {
		return err
	}
	_, msg, err := s.cmd(250, "EHLO %s", name)
	var tp *textproto.Error
	if errors.As(err, &tp) {
		s.ext = nil
		_, _, err = s.cmd(250, "HELO %s", name)
		return err
	}
	if err != nil {
		return err
	}
	s.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, line := range lines[1:] {
		k, v, _ := strings.Cut(line, " ")
		s.ext[strings.ToUpper(k)] = v
	}
	return nil
}

func (s *session) extension(name string) (bool, string) {
	v, ok := s.ext[name]
	return ok, v
}

// startTLS upgrades the connection; the caller says EHLO again.
func (s *session) startTLS(conf *tls.Config) (tls.ConnectionState, error) {
	if _, _, err := s.cmd(220, "STARTTLS"); err != nil {
		return tls.ConnectionState{}, err
	}
	// Bytes already behind the 220 came before TLS: someone on the path
	// may have put them there to be read as replies under TLS.
	if s.text.R.Buffered() > 0 {
		return tls.ConnectionState{}, errors.New("the server sent more than its reply to STARTTLS")
	}
	tc := tls.Client(s.raw, conf)
	if err := tc.Handshake(); err != nil {
		return tls.ConnectionState{}, err
	}
	s.use(tc)
	return tc.ConnectionState(), nil
}

// auth runs a mechanism's exchange, as net/smtp's Client.Auth does.
func (s *session) auth(a smtp.Auth) error {
	mechs := strings.Fields(s.ext["AUTH"])
	mech, resp, err := a.Start(&smtp.ServerInfo{Name: s.host, TLS: s.tls, Auth: mechs})
	if err != nil {
		return err
	}
	code, msg, err := s.cmd(0, "%s", strings.TrimSpace("AUTH "+mech+" "+base64.StdEncoding.EncodeToString(resp)))
	for err == nil {
		var challenge []byte
		switch code {
		case 334:
			challenge, err = base64.StdEncoding.DecodeString(msg)
		case 235:
			challenge = []byte(msg) // not a challenge: no base64
		default:
			err = &textproto.Error{Code: code, Msg: msg}
		}
		if err == nil {
			resp, err = a.Next(challenge, code == 334)
		}
		if err != nil {
			_, _, _ = s.cmd(501, "*") // cancel the exchange
			return err
		}
		if resp == nil {
			return nil
		}
		code, msg, err = s.cmd(0, "%s", base64.StdEncoding.EncodeToString(resp))
	}
	return err
}

func (s *session) mail(from string) error {
	if err := validateLine(from); err != nil {
		return err
	}
	format := "MAIL FROM:<%s>"
	if ok, _ := s.extension("8BITMIME"); ok {
		format += " BODY=8BITMIME"
	}
	if ok, _ := s.extension("SMTPUTF8"); ok {
		format += " SMTPUTF8"
	}
	_, _, err := s.cmd(250, format, from)
	return err
}

func (s *session) rcpt(to string) error {
	if err := validateLine(to); err != nil {
		return err
	}
	_, _, err := s.cmd(25, "RCPT TO:<%s>", to)
	return err
}

func (s *session) reset() error {
	_, _, err := s.cmd(250, "RSET")
	return err
}

// data returns the writer of the message; its Close reads the reply.
func (s *session) data() (io.WriteCloser, error) {
	if _, _, err := s.cmd(354, "DATA"); err != nil {
		return nil, err
	}
	return &dataWriter{WriteCloser: s.text.DotWriter(), s: s}, nil
}

type dataWriter struct {
	io.WriteCloser
	s *session
}

func (d *dataWriter) Close() error {
	if err := d.WriteCloser.Close(); err != nil {
		return err
	}
	_, _, err := d.s.reply(250)
	return err
}

func (s *session) quit() error {
	_, _, err := s.cmd(221, "QUIT")
	if cerr := s.close(); err == nil {
		err = cerr
	}
	return err
}

func (s *session) close() error { return s.text.Close() }

// errBadLine is an address or name that would smuggle a command.
var errBadLine = errors.New("a line must not contain CR or LF")

func validateLine(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("%q: %w", line, errBadLine)
	}
	return nil
}
