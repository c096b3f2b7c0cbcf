package jsonstream

import (
	"bytes"
	"io"
	"unicode/utf8"
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// between handles the stream outside documents: white space, byte-order
// marks, text lines, and the '{' that opens the next document.
func (r *reader) between() (token, error) {
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
				return token{}, e
			}
			if r.docs == 0 && !r.segment {
				return token{}, r.errAt(i, "no JSON document in the input")
			}
			return token{}, io.EOF
		}
		return token{}, errNeedMore
	}
	if b[i] == '{' {
		off, line := r.at(i)
		r.pos = i + 1
		r.inDoc, r.first = true, true
		r.docs++
		r.docStart, r.docLine = off, line
		return token{kind: tokStart, off: off, line: line}, nil
	}
	if b[i] == '"' {
		if tok, ok, err := r.bareString(i); ok || err != nil {
			return tok, err
		}
	}
	return r.textLine(i)
}

// maxBareString bounds a line that may be one JSON string: past it, the
// line is text, kept by its first bytes only.
const maxBareString = 1 << 20

// bareString reads a line that is one JSON string and nothing else: a
// document that is not an object. (The salt CLI prints one when a job
// could not run: "Salt request timed out. The master is not responding.
// ...".) ok is false when the line is something else: text.
func (r *reader) bareString(i int) (tok token, ok bool, err error) {
	b := r.buf
	end, err := scanString(b, i)
	if err == errNeedMore {
		if r.eof || len(b)-i > maxBareString {
			return token{}, false, nil
		}
		return token{}, false, errNeedMore
	}
	if err != nil {
		return token{}, false, nil
	}
	j := end
	for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r') {
		j++
	}
	if j >= len(b) && !r.eof {
		return token{}, false, errNeedMore
	}
	if j < len(b) && b[j] != '\n' {
		return token{}, false, nil
	}
	off, line := r.at(i)
	r.pos = j
	r.docs++
	return token{kind: tokString, value: b[i:end], off: off, line: line}, true, nil
}

// textLine consumes one line of non-JSON text starting at b[i], keeping
// only its first bytes, so that a huge line costs no memory.
func (r *reader) textLine(i int) (token, error) {
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
			return token{}, r.errAt(i+z, "NUL byte in the input")
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
			return token{}, r.errAt(i+bad, "invalid UTF-8 in the input")
		}
		if room := textKeep - len(r.text); room > 0 {
			r.text = append(r.text, seg[:min(room, len(seg))]...)
		}
		if nl >= 0 || r.eof {
			if nl >= 0 {
				end++
			}
			r.pos = end
			return token{kind: tokText, value: bytes.TrimRight(r.text, "\r"), off: off, line: line}, nil
		}
		// The line goes on past the buffer: drop what was seen, read on.
		r.pos = end
		i = 0
		r.fill()
	}
}
