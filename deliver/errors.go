package deliver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"os/exec"
	"strings"
)

// ConfigError is a transport setting that cannot work, found before
// any I/O. Field names the field of SMTP, Sendmail or Retry at fault;
// the caller knows what the user called it.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// Error is a delivery failure with its class. Temporary failures are
// worth another try; permanent ones are not.
type Error struct {
	Step      string // connect, greeting, starttls, auth, mail, rcpt, data, sendmail...
	Temporary bool
	Code      int // the SMTP reply code, when the server gave one
	Err       error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return e.Step + ": " + e.Err.Error() + " (" + kind + ")"
}

func (e *Error) Unwrap() error { return e.Err }

// IsTemporary says whether err is worth another try. Unknown errors
// count as temporary: a retry costs a little time, a lost mail costs the
// admin's trust.
func IsTemporary(err error) bool {
	var re *RecipientsError
	if errors.As(err, &re) {
		return re.Temporary()
	}
	var de *Error
	if errors.As(err, &de) {
		return de.Temporary
	}
	return true
}

// classify wraps err from a step: SMTP 4xx replies, time-outs, refused
// or reset connections and TLS handshake failures are temporary; 5xx
// replies and certificate failures are permanent.
func classify(step string, err error) error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	e := &Error{Step: step, Err: err, Temporary: true}
	var tp *textproto.Error
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	switch {
	case errors.As(err, &tp):
		e.Code = tp.Code
		e.Temporary = tp.Code >= 400 && tp.Code < 500
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &authErr):
		e.Temporary = false // a wrong certificate will not right itself
	case errors.Is(err, errBadLine):
		e.Temporary = false // nor will an address with a line break
	}
	return e
}

// setupSteps open a session; every message of a run goes through them.
var setupSteps = map[string]bool{"connect": true, "tls": true, "greeting": true, "ehlo": true, "starttls": true, "auth": true}

// IsConnectionFailure says whether err ended the session rather than
// one message: the connection was refused, timed out, reset or ran out
// its deadline; the greeting, TLS, EHLO, STARTTLS or AUTH failed; a
// reply was too long or garbled; the sendmail program did not run or
// hung. The rest of a run would fare no better, so a caller may stop
// at once. A server's reply to one message (MAIL, RCPT, DATA) is not,
// unless it is 421 (the server is closing the channel); nor is an
// error deliver does not know.
func IsConnectionFailure(err error) bool {
	var re *RecipientsError
	if errors.As(err, &re) {
		for _, r := range re.Refused {
			if IsConnectionFailure(r.Err) {
				return true // the session broke on a later try
			}
		}
		return false
	}
	var de *Error
	if !errors.As(err, &de) {
		return false
	}
	var exit *exec.ExitError
	switch {
	case de.Code == 421, setupSteps[de.Step]:
		return true
	case de.Code != 0:
		return false
	case de.Step == "sendmail":
		return !errors.As(de.Err, &exit) // it ran and said no: that message
	}
	return !errors.Is(de.Err, errBadLine)
}

// permanent is a failure no retry can mend (a policy refusal).
func permanent(step string, err error) error {
	return &Error{Step: step, Err: err}
}

// Refusal is one recipient the message did not reach, and why.
type Refusal struct {
	To  string
	Err error
}

// RecipientsError says which recipients the message did not reach when
// the others got it, or the server refused each of them at RCPT TO.
// Those not named got it.
type RecipientsError struct {
	Refused []Refusal
}

func (e *RecipientsError) Error() string {
	parts := make([]string, len(e.Refused))
	for i, r := range e.Refused {
		parts[i] = r.Err.Error()
		if !strings.Contains(parts[i], r.To) {
			parts[i] = r.To + ": " + parts[i]
		}
	}
	return fmt.Sprintf("not delivered to %d recipient(s): %s", len(e.Refused), strings.Join(parts, "; "))
}

// Temporary: another try may reach one of them.
func (e *RecipientsError) Temporary() bool {
	for _, r := range e.Refused {
		if IsTemporary(r.Err) {
			return true
		}
	}
	return false
}

// Undelivered returns the recipients of to that err says the message did
// not reach: the ones a *RecipientsError names, else all of them.
func Undelivered(err error, to []string) []string {
	if err == nil {
		return nil
	}
	var re *RecipientsError
	if !errors.As(err, &re) {
		return to
	}
	left := make([]string, len(re.Refused))
	for i, r := range re.Refused {
		left[i] = r.To
	}
	return left
}
