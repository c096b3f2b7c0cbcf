package deliver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// sessionSteps is how many step time-outs one session (one try of one
// message, connect to QUIT) may last in all: 60 s with the default 10 s
// step. A server that answers each step just in time, a byte at a
// time, cannot hold a message longer.
const sessionSteps = 6

func (c *SMTP) deadline() time.Duration { return sessionSteps * c.Timeout }

// deadlineConn bounds every read and write by the step time-out, and
// the whole session by an absolute end, so that neither a silent server
// nor one that drips a byte at a time can hold the sender.
type deadlineConn struct {
	net.Conn
	step  time.Duration
	end   time.Time
	total time.Duration // the session's deadline, for messages
}

func (d *deadlineConn) arm() {
	t := time.Now().Add(d.step)
	if t.After(d.end) {
		t = d.end
	}
	_ = d.Conn.SetDeadline(t)
}

func (d *deadlineConn) Read(p []byte) (int, error) {
	d.arm()
	n, err := d.Conn.Read(p)
	return n, d.explain(err)
}

func (d *deadlineConn) Write(p []byte) (int, error) {
	d.arm()
	n, err := d.Conn.Write(p)
	return n, d.explain(err)
}

// explain says when a time-out is the session's end rather than one
// slow step: "i/o timeout" alone would hide a server that drips.
func (d *deadlineConn) explain(err error) error {
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || time.Now().Before(d.end) {
		return err
	}
	return fmt.Errorf("the session's deadline of %v passed: %w", d.total, err)
}
