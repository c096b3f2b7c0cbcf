package jsonstream

import (
	"bytes"
	"errors"
	"io"
)

// splitter reads the input and cuts it into segments before lines that
// open with a '{' (see parallel.go): the cuts are guesses, proven there.
type splitter struct {
	src       io.Reader
	size, max int
	bufs      *[][]byte // spare buffers
	grown     int       // the capacity a buffer grew to: new ones start there
	carry     []byte    // read after the last cut
	off       int64     // input offset of carry[0]
	lines     int       // newlines before carry[0]
	eof       bool
	rerr      error
}

var docLine = []byte("\n{")

// next reads up to the next cut: a segment, or false when there is no
// cut within max bytes (carry then holds what was read) or nothing left.
func (sp *splitter) next() (*segment, bool) {
	if sp.eof && len(sp.carry) == 0 {
		return nil, false
	}
	buf := sp.carry
	if buf == nil {
		buf = sp.buffer()
	}
	searched := len(buf) // buf[:searched] holds no cut
	for {
		for target := min(searched+sp.size, sp.max); len(buf) < target && !sp.eof; {
			if len(buf) == cap(buf) {
				nb := make([]byte, len(buf), min(2*cap(buf), sp.max))
				copy(nb, buf)
				buf = nb
				sp.grown = max(sp.grown, cap(buf))
			}
			n, err := sp.src.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				sp.eof = true
				if !errors.Is(err, io.EOF) {
					sp.rerr = err
				}
			}
		}
		if sp.eof {
			s := &segment{data: buf, off: sp.off, lines: sp.lines, final: true, rerr: sp.rerr}
			sp.carry = nil
			return s, true
		}
		from := max(searched-1, 0)
		if i := lastDocLine(buf[from:]); i >= 0 {
			cut := from + i + 1
			s := &segment{data: buf[:cut], off: sp.off, lines: sp.lines}
			next := sp.buffer()
			sp.carry = append(next, buf[cut:]...)
			sp.off += int64(cut)
			sp.lines += bytes.Count(s.data, docLine[:1])
			return s, true
		}
		searched = len(buf)
		if len(buf) >= sp.max {
			sp.carry = buf
			return nil, false
		}
	}
}

// lastDocLine returns where the last "\n{" in b starts, or -1. It
// looks for the brace, far rarer than line breaks in pretty-printed
// JSON, with a vectorised search, and checks the byte before: searching
// for the line break would stop at every line, and LastIndex walks
// byte by byte. (A fleet highstate's minion is over 100 KB: the last
// cut is rarely near the end.)
func lastDocLine(b []byte) int {
	last := -1
	for i := 1; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '{')
		if j < 0 {
			break
		}
		if i += j; b[i-1] == '\n' {
			last = i - 1
		}
	}
	return last
}

// backTo makes sp read again from segment s on: s, the segments queued
// after it (once their workers are done with them), then the rest.
func (sp *splitter) backTo(s *segment, queue []*segment) {
	rest := []io.Reader{bytes.NewReader(s.data)}
	for _, q := range queue {
		<-q.done
		rest = append(rest, bytes.NewReader(q.data))
	}
	sp.src = io.MultiReader(append(rest, sp.rest())...)
	sp.carry, sp.off, sp.lines = nil, s.off, s.lines
	sp.eof, sp.rerr = false, nil
}

// rest reads what was not cut: the carry, then the rest of the input.
func (sp *splitter) rest() io.Reader {
	rs := []io.Reader{bytes.NewReader(sp.carry)}
	if sp.rerr != nil {
		rs = append(rs, errReader{sp.rerr})
	} else if !sp.eof {
		rs = append(rs, sp.src)
	}
	return io.MultiReader(rs...)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func (sp *splitter) buffer() []byte {
	if n := len(*sp.bufs); n > 0 {
		b := (*sp.bufs)[n-1]
		*sp.bufs = (*sp.bufs)[:n-1]
		return b[:0]
	}
	// Small at first: one reactor event should not pay for a segment.
	// Once a buffer had to grow, the input is a stream: new buffers
	// start at that size rather than grow (and leave garbage) again.
	return make([]byte, 0, max(sp.grown, min(64<<10, sp.max)))
}

func (sp *splitter) recycle(b []byte) {
	if cap(b) <= 4*sp.size {
		*sp.bufs = append(*sp.bufs, b[:0])
	}
}
