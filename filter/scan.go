package filter

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a document may
// have. Deeper input is rejected as unreadable rather than risking the
// stack of whatever reads it next.
const MaxDepth = 10000

// errNeedMore says the buffer ended inside the value: read more and scan
// again from the same start.
var errNeedMore = errors.New("need more input")

// syntaxError is a JSON syntax error at an offset into the scanned buffer.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// strStop marks the bytes that end the fast path through a string: the
// quote, the backslash, control characters and every non-ASCII byte
// (checked as UTF-8).
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanner validates one JSON value in a buffer. It keeps its own stack
// instead of recursing, so hostile nesting costs a byte per level.
type scanner struct {
	stack []byte
	// children are the members of the value when it is an object, found
	// on the way (a minion's return: its state entries), so that the
	// evaluator need not scan it again to split it.
	children []Span
	open     bool // a child's value has started and not ended
	// fields are the members of the children that are objects (a state
	// entry's result, changes...); each child's G0, G1 index them.
	fields []Span
	open2  bool
}

// Span locates one member of an object value: its raw key [K0, K1) and
// raw value [V0, V1), as offsets into the value's bytes; for a member
// of the outermost object, its own members are fields[G0:G1].
type Span struct{ K0, K1, V0, V1, G0, G1 int }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	// Pretty-printed JSON indents with runs of spaces: skip them eight
	// at a time.
	for i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0x2020202020202020 {
		i += 8
	}
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// plainWord says whether none of 8 bytes ends the fast path through a
// string: no '"', no '\\', no control character, no non-ASCII byte.
func plainWord(w uint64) bool {
	const (
		lo   = 0x0101010101010101
		hi   = 0x8080808080808080
		quot = 0x2222222222222222
		bksl = 0x5c5c5c5c5c5c5c5c
	)
	ctl := (w - 0x2020202020202020) &^ w // high bit set where a byte < 0x20 (or >= 0x80)
	q := w ^ quot
	bs := w ^ bksl
	zq := (q - lo) &^ q   // high bit where a byte is '"'
	zb := (bs - lo) &^ bs // high bit where a byte is '\\'
	return (ctl|zq|zb|w)&hi == 0
}

// value validates the JSON value that starts at b[i] (after white space)
// and returns the offset just past it. depth is the nesting the value
// already sits in. It returns errNeedMore when b ends before the value
// does, or a *syntaxError.
func (s *scanner) value(b []byte, i, depth int) (int, error) {
	s.stack = s.stack[:0]
	s.children, s.open = s.children[:0], false
	s.fields, s.open2 = s.fields[:0], false
	start := skipSpace(b, i)
	var err error
	for {
		// A value is expected at i.
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, errNeedMore
		}
		if s.open && len(s.stack) == 1 && s.children[len(s.children)-1].V0 < 0 {
			s.children[len(s.children)-1].V0 = i - start
		}
		if s.open2 && len(s.stack) == 2 && s.fields[len(s.fields)-1].V0 < 0 {
			s.fields[len(s.fields)-1].V0 = i - start
		}
		closed := true
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth+len(s.stack)+1 > MaxDepth {
				return i, &syntaxError{i, "nesting deeper than 10000 levels"}
			}
			s.stack = append(s.stack, c)
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return i, errNeedMore
			}
			if (c == '{' && b[i] == '}') || (c == '[' && b[i] == ']') {
				s.stack = s.stack[:len(s.stack)-1]
				i++
				break
			}
			if c == '{' {
				k0 := i
				if i, err = objectKey(b, i); err != nil {
					return i, err
				}
				if len(s.stack) <= 2 {
					s.member(b, start, k0, i)
				}
			}
			closed = false
		case c == '"':
			if i, err = scanString(b, i); err != nil {
				return i, err
			}
		case c == 't':
			if i, err = literal(b, i, "true"); err != nil {
				return i, err
			}
		case c == 'f':
			if i, err = literal(b, i, "false"); err != nil {
				return i, err
			}
		case c == 'n':
			if i, err = literal(b, i, "null"); err != nil {
				return i, err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if i, err = scanNumber(b, i); err != nil {
				return i, err
			}
		default:
			return i, &syntaxError{i, "invalid character " + quoteByte(c) + " looking for a value"}
		}
		if !closed {
			continue
		}
		// After a value: close containers or move to the next element.
		for {
			if s.open2 && len(s.stack) == 2 {
				s.fields[len(s.fields)-1].V1 = i - start
				s.open2 = false
			}
			if s.open && len(s.stack) == 1 {
				c := &s.children[len(s.children)-1]
				c.V1, c.G1 = i-start, len(s.fields)
				s.open = false
			}
			if len(s.stack) == 0 {
				return i, nil
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, errNeedMore
			}
			top := s.stack[len(s.stack)-1]
			c := b[i]
			if c == ',' {
				i++
				if top == '{' {
					if i = skipSpace(b, i); i >= len(b) {
						return i, errNeedMore
					}
					k0 := i
					if i, err = objectKey(b, i); err != nil {
						return i, err
					}
					if len(s.stack) <= 2 {
						s.member(b, start, k0, i)
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				s.stack = s.stack[:len(s.stack)-1]
				i++
				continue
			}
			if top == '{' {
				return i, &syntaxError{i, "invalid character " + quoteByte(c) + " after object value (expecting ',' or '}')"}
			}
			return i, &syntaxError{i, "invalid character " + quoteByte(c) + " after array element (expecting ',' or ']')"}
		}
	}
}

// member records a member of the outermost object, or of an object
// inside it: its key runs from k0 to the colon before colonEnd; its
// value starts at the next value.
func (s *scanner) member(b []byte, start, k0, colonEnd int) {
	depth := len(s.stack)
	if depth > 2 || s.stack[0] != '{' || (depth == 2 && (s.stack[1] != '{' || !s.open)) {
		return
	}
	k1 := colonEnd - 1
	for k1 > k0 && b[k1-1] != '"' {
		k1--
	}
	sp := Span{K0: k0 - start, K1: k1 - start, V0: -1}
	if depth == 1 {
		sp.G0, sp.G1 = len(s.fields), len(s.fields)
		s.children = append(s.children, sp)
		s.open = true
		return
	}
	s.fields = append(s.fields, sp)
	s.open2 = true
}

// objectKey scans `"key" :` at b[i] and returns the offset after the colon.
func objectKey(b []byte, i int) (int, error) {
	if b[i] != '"' {
		return i, &syntaxError{i, "invalid character " + quoteByte(b[i]) + " looking for an object key"}
	}
	i, err := scanString(b, i)
	if err != nil {
		return i, err
	}
	if i = skipSpace(b, i); i >= len(b) {
		return i, errNeedMore
	}
	if b[i] != ':' {
		return i, &syntaxError{i, "invalid character " + quoteByte(b[i]) + " after object key (expecting ':')"}
	}
	return i + 1, nil
}

// scanString validates the string starting with the quote at b[i] and
// returns the offset after its closing quote.
func scanString(b []byte, i int) (int, error) {
	i++
	for {
		for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && !strStop[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, errNeedMore
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return i, errNeedMore
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, errNeedMore
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return i, &syntaxError{i, "invalid \\u escape in string"}
					}
				}
				i += 6
			default:
				return i, &syntaxError{i, "invalid escape " + quoteByte(b[i+1]) + " in string"}
			}
		case c < 0x20:
			if c == 0 {
				return i, &syntaxError{i, "NUL byte in string"}
			}
			return i, &syntaxError{i, "control character " + quoteByte(c) + " in string"}
		default: // non-ASCII: must be UTF-8
			if !utf8.FullRune(b[i:]) {
				return i, errNeedMore
			}
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i, &syntaxError{i, "invalid UTF-8 in string"}
			}
			i += n
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func literal(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i, errNeedMore
		}
		if b[i+k] != lit[k] {
			return i + k, &syntaxError{i + k, "invalid character " + quoteByte(b[i+k]) + " in literal " + lit}
		}
	}
	return i + len(lit), nil
}

// scanNumber validates -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? at b[i].
// A number that touches the end of b may go on: errNeedMore.
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func(what string) error {
		if i >= len(b) {
			return errNeedMore
		}
		if !isDigit(b[i]) {
			return &syntaxError{i, "invalid character " + quoteByte(b[i]) + " in numeric literal" + what}
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i >= len(b) {
			return errNeedMore
		}
		return nil
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if err := digits(""); err != nil {
		return start, err
	}
	if i >= len(b) {
		return start, errNeedMore
	}
	if b[i] == '.' {
		i++
		if err := digits(" (after decimal point)"); err != nil {
			return start, err
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if err := digits(" (in exponent)"); err != nil {
			return start, err
		}
	}
	return i, nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		if c == '\'' {
			return `'\''`
		}
		return "'" + string(c) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}
