package jsonstream

import "io"

// Handler hears one stream, or one segment of it, in order. What it is
// given is valid during the call only (but see Doc.Held).
type Handler interface {
	// Text: a line that is not JSON was skipped.
	Text(Text)
	// String: a line is one JSON string, a document that is not an
	// object (what the salt CLI prints when a job could not run).
	String(Value)
	// Start: a document opens; the Doc holds its members until End or
	// Release.
	Start(*Doc)
	// Member: one top-level "key": value pair of the open document.
	Member(*Doc, Member)
	// End: the open document closes.
	End(*Doc)
	// Cut: the input failed inside the open document, which will never
	// end; Read returns the error next.
	Cut(*Doc)
	// Fork returns a fresh handler with the same settings, to hear a
	// segment of the input on a goroutine of its own.
	Fork() Handler
	// Join adds what a forked handler heard, as if this one had heard
	// it next. A forked handler whose segment proved cut at a wrong
	// place is dropped, never joined. Fork and Join are called on the
	// goroutine that called Read.
	Join(Handler)
}

// Text is a line of the stream that is not JSON (a CLI's banner, a
// merged log line): it is skipped, and told.
type Text struct {
	Name  string // the input's name
	Line  int    // its 1-based line
	Bytes []byte // its first bytes, without the line end
}

// Member is one "key": value pair of an object.
type Member struct {
	Key   []byte // decoded
	Value Value
}

// run reads r to its end, telling h; with stop >= 0 it stops after the
// first document that ends at or after input offset stop: stopped.
func (r *reader) run(h Handler, stop int64) (stopped bool, err error) {
	d := &r.doc
	d.r = r
	for {
		tok, err := r.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			if r.inDoc {
				h.Cut(d)
			}
			d.reset()
			return false, err
		}
		switch tok.kind {
		case tokText:
			h.Text(Text{Name: r.name, Line: tok.line, Bytes: tok.value})
		case tokString:
			h.String(Value{Raw: tok.value})
		case tokStart:
			d.reset()
			d.holding = true
			h.Start(d)
		case tokMember:
			m := Member{Key: r.decodeKey(tok.key), Value: Value{Raw: tok.value, kids: tok.children, sub: tok.fields, deep: true, located: true}}
			if d.holding {
				d.hold(m.Key, tok)
			}
			h.Member(d, m)
		case tokEnd:
			h.End(d)
			d.reset()
			if stop >= 0 && tok.off >= stop {
				return true, nil
			}
		}
	}
}

// decodeKey decodes a member's raw key; one with escapes is decoded
// into a buffer reused for the next.
func (r *reader) decodeKey(raw []byte) []byte {
	k, buf := decodeKey(raw, r.key)
	r.key = buf
	return k
}
