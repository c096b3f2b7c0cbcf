package jsonstream

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode/utf8"
)

// The lexical layer: white space, strings, numbers and literals, each
// validated in place. Every function takes the buffer and an offset and
// returns the offset past what it read.

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

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

const spaces8 = 0x2020202020202020

// skipSpace returns the offset of the first byte at or after i that is
// not white space. Pretty-printed JSON puts a line break and a run of
// indenting spaces before every member: the run is measured eight bytes
// at a time.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		switch {
		case c > ' ': // most calls find no white space at all
			return i
		case c == ' ':
			if i+8 > len(b) {
				i++
				continue
			}
			x := binary.LittleEndian.Uint64(b[i:]) ^ spaces8
			if x == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(x) >> 3 // the spaces before the first other byte
		case c == '\n' || c == '\t' || c == '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stopMask has the high bit set in each byte of w (little-endian) that
// ends the fast path through a string: '"', '\\', a control character,
// a non-ASCII byte. Bytes after the first such byte may be flagged
// wrongly (a borrow runs on); the lowest flag is always exact.
func stopMask(w uint64) uint64 {
	const (
		lo   = 0x0101010101010101
		hi   = 0x8080808080808080
		quot = 0x2222222222222222
		bksl = 0x5c5c5c5c5c5c5c5c
	)
	ctl := (w - spaces8) &^ w // high bit set where a byte < 0x20 (or >= 0x80)
	q := w ^ quot
	bs := w ^ bksl
	zq := (q - lo) &^ q   // high bit where a byte is '"'
	zb := (bs - lo) &^ bs // high bit where a byte is '\\'
	return (ctl | zq | zb | w) & hi
}

// skipPlain returns the offset of the first byte at or after i that
// ends the fast path through a string (see strStop), eight at a time.
func skipPlain(b []byte, i int) int {
	for i+8 <= len(b) {
		if m := stopMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && !strStop[b[i]] {
		i++
	}
	return i
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
		if i = skipPlain(b, i); i >= len(b) {
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
