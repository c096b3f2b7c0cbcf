package filter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// TokenKind tells what a Reader token is.
type TokenKind int

const (
	// DocStart opens a top-level JSON object.
	DocStart TokenKind = iota
	// Member is one top-level "key": value pair of the open document.
	Member
	// DocEnd closes the document.
	DocEnd
	// Text is a line of the stream that is not JSON (Salt's `jid: ...`,
	// batch banners, merged log lines); it is skipped.
	Text
)

// Token is one step through the stream. Key and Value point into the
// Reader's buffer and are valid only until the next call to Next.
type Token struct {
	Kind     TokenKind
	Key      []byte // the raw JSON string of a Member's key, quotes included
	Value    []byte // the raw JSON of a Member's value; a Text line's text
	Offset   int64  // byte offset of the token in the input
	Line     int    // 1-based line of the token
	ValueOff int64  // byte offset of a Member's value: see Bytes
	// Children are the members of a Member's value when it is an object
	// (a minion's state entries), as offsets into Value; Fields are the
	// members of those that are objects (see Span).
	Children, Fields []Span
}

// InputError says why an input could not be read, and where.
type InputError struct {
	Name   string // the input's name (a file name, or "-" for stdin)
	Offset int64  // byte offset of the fault
	Line   int    // 1-based line of the fault
	Msg    string
	Err    error // the underlying read error, if any
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s: line %d, byte %d: %s", e.Name, e.Line, e.Offset, e.Msg)
}

func (e *InputError) Unwrap() error { return e.Err }

const (
	readChunk = 256 << 10
	textKeep  = 200 // bytes of a text line kept for its warning
)

// Reader splits a stream of JSON objects into their top-level members
// while reading. It holds at most one member (plus one read chunk) in
// memory, whatever the size of the document around it.
type Reader struct {
	src   io.Reader
	name  string
	buf   []byte
	pos   int   // next byte to look at in buf
	base  int64 // input offset of buf[0]
	lines int   // newlines before buf[0]
	lpos  int   // buf[:lpos] holds lcnt newlines: at() counts on from there
	lcnt  int
	eof   bool
	rerr  error
	cut   bool // the input ended inside a document

	inDoc    bool
	pinned   bool // keep the open document's bytes: see Bytes
	first    bool // the next member is the document's first
	docs     int
	docStart int64
	docLine  int
	sc       scanner
	text     []byte
}

// NewReader reads the stream from src; name labels its errors.
func NewReader(src io.Reader, name string) *Reader {
	return &Reader{src: src, name: name, buf: make([]byte, 0, readChunk)}
}

// Bytes returns input bytes [off, end) of the open document's members
// (by their ValueOff): the Reader keeps the whole open document in its
// buffer until DocEnd or Unpin, so a caller can evaluate a document's
// members at its end without copying them. Valid until the next Next.
func (r *Reader) Bytes(off, end int64) []byte {
	return r.buf[off-r.base : end-r.base]
}

// Unpin lets the Reader drop the open document's earlier members: for a
// document too large to hold, read member by member.
func (r *Reader) Unpin() { r.pinned = false }

// fill makes room and reads until the buffer is full or the input ends,
// keeping buf[r.pos:]. The buffer doubles when the unfinished token fills
// more than half of it, so rescanning a huge member stays linear.
func (r *Reader) fill() {
	if r.eof {
		return
	}
	keep := r.pos // bytes before keep are done with
	if r.pinned {
		keep = min(keep, int(r.docStart-r.base))
	}
	if keep > 0 {
		if r.lpos <= keep {
			r.lines += r.lcnt + bytes.Count(r.buf[r.lpos:keep], []byte{'\n'})
			r.lpos, r.lcnt = 0, 0
		} else {
			k := bytes.Count(r.buf[:keep], []byte{'\n'})
			r.lines += k
			r.lpos, r.lcnt = r.lpos-keep, r.lcnt-k
		}
		n := copy(r.buf, r.buf[keep:])
		r.buf = r.buf[:n]
		r.base += int64(keep)
		r.pos -= keep
	}
	if len(r.buf) > cap(r.buf)/2 {
		nb := make([]byte, len(r.buf), 2*cap(r.buf))
		copy(nb, r.buf)
		r.buf = nb
	}
	for len(r.buf) < cap(r.buf) {
		n, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+n]
		if err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.rerr = err
			}
			return
		}
	}
}

// at returns the offset and line of buf[i]. Tokens come in order, so
// it counts newlines on from the last position asked, never twice.
func (r *Reader) at(i int) (int64, int) {
	if i < r.lpos {
		r.lpos, r.lcnt = 0, 0
	}
	r.lcnt += bytes.Count(r.buf[r.lpos:i], []byte{'\n'})
	r.lpos = i
	return r.base + int64(i), r.lines + r.lcnt + 1
}

func (r *Reader) errAt(i int, format string, args ...any) *InputError {
	off, line := r.at(i)
	return &InputError{Name: r.name, Offset: off, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// truncated reports input that ended, or failed to read, inside a document.
func (r *Reader) truncated(i int) *InputError {
	e := r.errAt(i, "input ends inside the document that starts at line %d (truncated?)", r.docLine)
	if r.rerr != nil {
		e.Msg = "read error inside the document that starts at line " + fmt.Sprint(r.docLine) + ": " + r.rerr.Error()
		e.Err = r.rerr
	}
	return e
}

// Next returns the next token, io.EOF at the clean end of the input, or
// an *InputError. After an error the Reader is done.
func (r *Reader) Next() (Token, error) {
	for {
		tok, err := r.step()
		if err != errNeedMore {
			return tok, err
		}
		if r.eof {
			if r.inDoc {
				r.cut = true
				return Token{}, r.truncated(len(r.buf))
			}
			return Token{}, r.errAt(len(r.buf), "incomplete input")
		}
		r.fill()
	}
}

// step tries to produce one token from the buffered bytes; errNeedMore
// means nothing was consumed and the caller must read more.
func (r *Reader) step() (Token, error) {
	if !r.inDoc {
		return r.between()
	}
	b := r.buf
	i := skipSpace(b, r.pos)
	if i >= len(b) {
		return Token{}, errNeedMore
	}
	if !r.first {
		// After a member: ',' or '}'.
		switch b[i] {
		case '}':
			off, line := r.at(i)
			r.pos = i + 1
			r.inDoc, r.pinned = false, false
			return Token{Kind: DocEnd, Offset: off, Line: line}, nil
		case ',':
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return Token{}, errNeedMore
			}
		default:
			return Token{}, r.syntax(i, &syntaxError{i, "invalid character " + quoteByte(b[i]) + " after top-level value (expecting ',' or '}')"})
		}
	} else if b[i] == '}' {
		off, line := r.at(i)
		r.pos = i + 1
		r.inDoc, r.pinned = false, false
		return Token{Kind: DocEnd, Offset: off, Line: line}, nil
	}
	keyStart := i
	vstart, err := objectKey(b, i)
	if err == nil {
		vstart = skipSpace(b, vstart)
		var end int
		end, err = r.sc.value(b, vstart, 1)
		if err == nil {
			off, line := r.at(keyStart)
			r.pos = end
			r.first = false
			keyEnd := bytes.LastIndexByte(b[keyStart:vstart], ':')
			key := bytes.TrimRight(b[keyStart:keyStart+keyEnd], " \t\r\n")
			return Token{Kind: Member, Key: key, Value: b[vstart:end], Offset: off, Line: line, ValueOff: r.base + int64(vstart), Children: r.sc.children, Fields: r.sc.fields}, nil
		}
	}
	if err == errNeedMore {
		return Token{}, err
	}
	return Token{}, r.syntax(i, err)
}

func (r *Reader) syntax(i int, err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		e := r.errAt(se.off, "%s (in the document that starts at line %d)", se.msg, r.docLine)
		return e
	}
	return r.errAt(i, "%v", err)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// between handles the stream outside documents: white space, byte-order
// marks, text lines, and the '{' that opens the next document.
func (r *Reader) between() (Token, error) {
	b := r.buf
	i := r.pos
	for {
		i = skipSpace(b, i)
		if i+len(bom) <= len(b) && bytes.Equal(b[i:i+len(bom)], bom) {
			i += len(bom)
			continue
		}
		break
	}
	r.pos = i
	if i >= len(b) || (len(b)-i < len(bom) && b[i] == bom[0] && !r.eof) {
		if r.eof && i >= len(b) {
			if r.rerr != nil {
				e := r.errAt(i, "read error: %v", r.rerr)
				e.Err = r.rerr
				return Token{}, e
			}
			if r.docs == 0 {
				return Token{}, r.errAt(i, "no JSON document in the input")
			}
			return Token{}, io.EOF
		}
		return Token{}, errNeedMore
	}
	if b[i] == '{' {
		off, line := r.at(i)
		r.pos = i + 1
		r.inDoc, r.first, r.pinned = true, true, true
		r.docs++
		r.docStart, r.docLine = off, line
		return Token{Kind: DocStart, Offset: off, Line: line}, nil
	}
	return r.textLine(i)
}

// textLine consumes one line of non-JSON text starting at b[i], keeping
// only its first bytes, so that a huge line costs no memory.
func (r *Reader) textLine(i int) (Token, error) {
	off, line := r.at(i)
	r.text = r.text[:0]
	for {
		b := r.buf
		nl := bytes.IndexByte(b[i:], '\n')
		end := len(b)
		if nl >= 0 {
			end = i + nl
		}
		seg := b[i:end]
		if z := bytes.IndexByte(seg, 0); z >= 0 {
			return Token{}, r.errAt(i+z, "NUL byte in the input")
		}
		if nl < 0 && !r.eof {
			// Hold back a rune the buffer splits, for the next round.
			k := len(seg) - 1
			for k >= 0 && k > len(seg)-utf8.UTFMax && !utf8.RuneStart(seg[k]) {
				k--
			}
			if k >= 0 && !utf8.FullRune(seg[k:]) {
				seg = seg[:k]
				end = i + k
			}
		}
		if !utf8.Valid(seg) {
			bad := 0
			for bad < len(seg) {
				rr, n := utf8.DecodeRune(seg[bad:])
				if rr == utf8.RuneError && n == 1 {
					break
				}
				bad += n
			}
			return Token{}, r.errAt(i+bad, "invalid UTF-8 in the input")
		}
		if room := textKeep - len(r.text); room > 0 {
			r.text = append(r.text, seg[:min(room, len(seg))]...)
		}
		if nl >= 0 || r.eof {
			if nl >= 0 {
				end++
			}
			r.pos = end
			return Token{Kind: Text, Value: bytes.TrimRight(r.text, "\r"), Offset: off, Line: line}, nil
		}
		// The line goes on past the buffer: drop what was seen, read on.
		r.pos = end
		i = 0
		r.fill()
	}
}
