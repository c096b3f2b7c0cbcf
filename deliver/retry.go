package deliver

import (
	"bytes"
	"errors"
	"time"

	"gopkg.in/gomail.v2"
)

// Dialer opens a sending session: (*SMTP).Dial or (*Sendmail).Dial.
type Dialer func() (gomail.SendCloser, error)

// Retry bounds how often and how patiently a message is offered. Each
// try is one session under its own deadline, so a message is held at
// most Attempts × that deadline + Backoff × (2^(Attempts-1) − 1).
type Retry struct {
	Attempts int           // tries in all, at least 1
	Backoff  time.Duration // wait before the second try; doubles each time
	// Sleep waits; nil means time.Sleep (tests pass their own).
	Sleep func(time.Duration)
}

// Validate checks the bounds before any I/O.
func (r Retry) Validate() error {
	if r.Attempts < 1 {
		return &ConfigError{"Attempts", "must be at least 1"}
	}
	if r.Backoff < 0 {
		return &ConfigError{"Backoff", "must not be negative"}
	}
	return nil
}

// Send offers msg (the exact bytes to send) through a fresh session per
// try until it is accepted, a permanent failure says no, or the tries
// run out. A try that reaches some recipients is offered again only to
// those refused for the moment (4xx). It returns the number of tries
// and the last error: a *RecipientsError when some recipients got it or
// were refused one by one, naming exactly those that did not get it.
func Send(dial Dialer, from string, to []string, msg []byte, r Retry) (int, error) {
	sleep := r.Sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	wait := r.Backoff
	var refused []Refusal // refused for good (5xx): not offered again
	narrowed := false     // to is no longer everyone
	for try := 1; ; try++ {
		err := sendOnce(dial, from, to, msg)
		var re *RecipientsError
		if errors.As(err, &re) {
			narrowed = true
			to, err = nil, nil
			var later []Refusal
			for _, f := range re.Refused {
				if IsTemporary(f.Err) {
					to = append(to, f.To)
					later = append(later, f)
				} else {
					refused = append(refused, f)
				}
			}
			if len(later) > 0 {
				err = &RecipientsError{Refused: later}
			}
		}
		if err == nil || !IsTemporary(err) || try >= r.Attempts {
			if !narrowed {
				return try, err
			}
			return try, undelivered(refused, to, err)
		}
		sleep(wait)
		wait *= 2
	}
}

// undelivered joins the recipients refused for good with those of to
// that err kept the message from, once some recipients got it.
func undelivered(refused []Refusal, to []string, err error) error {
	if len(refused) == 0 && err == nil {
		return nil
	}
	var re *RecipientsError
	switch {
	case errors.As(err, &re):
		refused = append(refused, re.Refused...)
	case err != nil:
		for _, t := range to {
			refused = append(refused, Refusal{To: t, Err: err})
		}
	}
	return &RecipientsError{Refused: refused}
}

func sendOnce(dial Dialer, from string, to []string, msg []byte) error {
	s, err := dial()
	if err != nil {
		return err
	}
	if err := s.Send(from, to, bytes.NewReader(msg)); err != nil {
		s.Close()
		return err
	}
	// The message is accepted once DATA is answered; a failing QUIT
	// changes nothing about that.
	_ = s.Close()
	return nil
}
