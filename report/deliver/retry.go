package deliver

import (
	"bytes"
	"time"

	"gopkg.in/gomail.v2"
)

// Dialer opens a sending session: (*SMTP).Dial or (*Sendmail).Dial.
type Dialer func() (gomail.SendCloser, error)

// Retry bounds how often and how patiently a message is offered.
type Retry struct {
	Attempts int           // tries in all, at least 1
	Backoff  time.Duration // wait before the second try; doubles each time
	// Sleep waits; nil means time.Sleep (tests pass their own).
	Sleep func(time.Duration)
}

// DefaultRetry finishes within a minute even when every try runs into
// the default 10 s time-out: 4 tries, waits of 2, 4 and 8 s.
var DefaultRetry = Retry{Attempts: 4, Backoff: 2 * time.Second}

// Send offers msg (the exact bytes to send) through a fresh session per
// try until it is accepted, a permanent failure says no, or the tries
// run out. It returns the number of tries and the last error.
func Send(dial Dialer, from string, to []string, msg []byte, r Retry) (int, error) {
	sleep := r.Sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	wait := r.Backoff
	var err error
	for try := 1; ; try++ {
		if err = sendOnce(dial, from, to, msg); err == nil {
			return try, nil
		}
		if !IsTemporary(err) || try >= r.Attempts {
			return try, err
		}
		sleep(wait)
		wait *= 2
	}
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
