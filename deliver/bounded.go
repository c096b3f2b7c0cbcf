package deliver

import (
	"bytes"
	"fmt"
	"io"
)

// Bounds on what a server may send as one reply: everything read
// between two writes of the client. RFC 5321 allows a reply line 512
// octets; the slack is for servers that overstep it a little. Without
// them, a server (or, before TLS, anyone on the path) that never ends a
// line or a multi-line reply makes saltmail buffer without end.
const (
	maxReplyLine  = 1000
	maxReplyBytes = 64 << 10
)

// replyTooLongError is a reply that overstepped a bound; the session
// is over, another may fare better.
type replyTooLongError struct {
	what string // "a line", "the reply"
	max  int    // its bound in octets
}

func (e *replyTooLongError) Error() string {
	return fmt.Sprintf("the server's reply is too long: %s of more than %d octets", e.what, e.max)
}

// boundedConn counts what the server sends between two writes of the
// client and fails the read that oversteps a bound, before textproto
// buffers it. It sits where the replies are clear text: over TLS, not
// under it.
type boundedConn struct {
	io.ReadWriteCloser
	line, reply int
	err         error // sticky: the stream is out of step for good
}

func (b *boundedConn) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.ReadWriteCloser.Read(p)
	if b.err = b.count(p[:n]); b.err != nil {
		return 0, b.err
	}
	return n, err
}

// Write starts a new reply: the client speaks only after one ended.
func (b *boundedConn) Write(p []byte) (int, error) {
	b.line, b.reply = 0, 0
	return b.ReadWriteCloser.Write(p)
}

func (b *boundedConn) count(p []byte) error {
	b.reply += len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.line += len(p)
			break
		}
		if b.line+i > maxReplyLine {
			b.line += i
			break
		}
		b.line, p = 0, p[i+1:]
	}
	switch {
	case b.line > maxReplyLine:
		return &replyTooLongError{"a line", maxReplyLine}
	case b.reply > maxReplyBytes:
		return &replyTooLongError{"the reply", maxReplyBytes}
	}
	return nil
}
