package jsonstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// tokenKind tells what a reader token is.
type tokenKind int

const (
	tokStart  tokenKind = iota // a top-level JSON object opens
	tokMember                  // one top-level "key": value pair of it
	tokEnd                     // the object closes
	tokText                    // a line of the stream that is not JSON
	tokString                  // a line that is one JSON string: a document of its own
)

// token is one step through the stream. Its slices point into the
// reader's buffer (or scanner) and are valid only until the next step.
type token struct {
	kind     tokenKind
	key      []byte // the raw JSON string of a member's key, quotes included
	value    []byte // the raw JSON of a member's value; a text line's text
	off      int64  // input offset of a document's start or end
	line     int    // 1-based line of a document's start, or of a text line
	valueOff int64  // input offset of a member's value
	// children are the members of a member's value when it is an
	// object, as offsets into value; fields are the members of those
	// that are objects (see span: fields[g0:g1]).
	children, fields []span
}

const (
	readChunk = 256 << 10
	textKeep  = 200 // bytes of a text line kept for its warning
)

// reader splits a stream of JSON objects into their top-level members
// while reading. It holds at most one member (plus one read chunk) in
// memory, whatever the size of the document around it, unless its Doc
// holds the open document.
type reader struct {
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
	first    bool // the next member is the document's first
	docs     int  // documents opened, counting those before this reader
	segment  bool // a segment of the input: having no document is fine
	max      int  // bytes one member may have (0: no bound), see Options.MaxValue
	docStart int64
	docLine  int
	sc       scanner
	text     []byte
	key      []byte // a decoded key with escapes
	doc      Doc
}

func newReader(src io.Reader, name string) *reader {
	return &reader{src: src, name: name, buf: make([]byte, 0, readChunk)}
}

// bytes returns input bytes [off, end) of the open document, which the
// buffer keeps while the Doc holds it.
func (r *reader) bytes(off, end int64) []byte {
	return r.buf[off-r.base : end-r.base]
}

// fill makes room and reads until the buffer is full or the input ends,
// keeping buf[r.pos:] (and the open document while it is held). The
// buffer doubles when the unfinished token fills more than half of it,
// so rescanning a huge member stays linear.
func (r *reader) fill() {
	if r.eof {
		return
	}
	keep := r.pos // bytes before keep are done with
	if r.doc.holding {
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
func (r *reader) at(i int) (int64, int) {
	if i < r.lpos {
		r.lpos, r.lcnt = 0, 0
	}
	r.lcnt += bytes.Count(r.buf[r.lpos:i], []byte{'\n'})
	r.lpos = i
	return r.base + int64(i), r.lines + r.lcnt + 1
}

func (r *reader) errAt(i int, format string, args ...any) *InputError {
	off, line := r.at(i)
	return &InputError{Name: r.name, Offset: off, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// truncated reports input that ended, or failed to read, inside a document.
func (r *reader) truncated(i int) *InputError {
	e := r.errAt(i, "input ends inside the document that starts at line %d (truncated?)", r.docLine)
	if r.rerr != nil {
		e.Msg = "read error inside the document that starts at line " + fmt.Sprint(r.docLine) + ": " + r.rerr.Error()
		e.Err = r.rerr
	}
	return e
}

// next returns the next token, io.EOF at the clean end of the input, or
// an *InputError. After an error the reader is done.
func (r *reader) next() (token, error) {
	for {
		tok, err := r.step()
		if err != errNeedMore {
			return tok, err
		}
		if r.inDoc && r.max > 0 {
			if err := r.bound(); err != nil {
				return token{}, err
			}
		}
		if r.eof {
			if r.inDoc {
				r.cut = true
				return token{}, r.truncated(len(r.buf))
			}
			return token{}, r.errAt(len(r.buf), "incomplete input")
		}
		r.fill()
	}
}

// step tries to produce one token from the buffered bytes; errNeedMore
// means nothing was consumed and the caller must read more.
func (r *reader) step() (token, error) {
	if !r.inDoc {
		return r.between()
	}
	b := r.buf
	i := skipSpace(b, r.pos)
	if i >= len(b) {
		r.pos = i // white space is done with: a run of it must not fill the memory
		return token{}, errNeedMore
	}
	if !r.first {
		// After a member: ',' or '}'.
		switch b[i] {
		case '}':
			return r.end(i), nil
		case ',':
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return token{}, errNeedMore
			}
		default:
			return token{}, r.syntax(i, &syntaxError{i, "invalid character " + quoteByte(b[i]) + " after top-level value (expecting ',' or '}')"})
		}
	} else if b[i] == '}' {
		return r.end(i), nil
	}
	keyStart := i
	vstart, err := objectKey(b, i)
	if err == nil {
		vstart = skipSpace(b, vstart)
		var end int
		end, err = r.sc.value(b, vstart, 1)
		if err == nil && r.max > 0 && end-keyStart > r.max {
			return token{}, r.tooLarge(keyStart)
		}
		if err == nil {
			r.pos = end
			r.first = false
			keyEnd := bytes.LastIndexByte(b[keyStart:vstart], ':')
			key := bytes.TrimRight(b[keyStart:keyStart+keyEnd], " \t\r\n")
			return token{kind: tokMember, key: key, value: b[vstart:end], valueOff: r.base + int64(vstart), children: r.sc.children[r.sc.keptC:], fields: r.sc.fields}, nil
		}
	}
	if err == errNeedMore {
		return token{}, err
	}
	return token{}, r.syntax(i, err)
}

// memberStart is where the member being read starts: past white space
// and the comma before it.
func (r *reader) memberStart() int {
	b := r.buf
	i := skipSpace(b, r.pos)
	if !r.first && i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	return i
}

// heldSlack is what a held document may have beyond its largest
// member: an event's envelope (fun, id, jid, retcode...) around its
// "return".
const heldSlack = 1 << 20

// bound refuses, before it is all in memory, a member over the bound
// (white space after its comma counts), or a document held whole (an
// event, whose shape needs all of it) over the bound and the slack.
func (r *reader) bound() error {
	if len(r.buf)-r.pos > r.max {
		return r.tooLarge(r.memberStart())
	}
	if r.doc.holding && int64(len(r.buf))-(r.docStart-r.base) > int64(r.max)+heldSlack {
		return r.errAt(r.pos, "a document of more than %d bytes held whole (the bound on one value and %d bytes; it starts at line %d)", r.max+heldSlack, heldSlack, r.docLine)
	}
	return nil
}

// tooLarge refuses a member larger than the bound at b[i]: reading on
// would hold all of it in memory (a 2 GB comment, a command printing
// one endless string).
func (r *reader) tooLarge(i int) error {
	return r.errAt(i, "a member of more than %d bytes (the bound on one value; in the document that starts at line %d)", r.max, r.docLine)
}

// end closes the open document at b[i], its '}'.
func (r *reader) end(i int) token {
	off, line := r.at(i)
	r.pos = i + 1
	r.inDoc = false
	return token{kind: tokEnd, off: off, line: line}
}

func (r *reader) syntax(i int, err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return r.errAt(se.off, "%s (in the document that starts at line %d)", se.msg, r.docLine)
	}
	return r.errAt(i, "%v", err)
}
