package jsonstream

// MaxDepth is the deepest nesting of arrays and objects a document may
// have. Deeper input is rejected as unreadable rather than risking the
// stack of whatever reads it next.
const MaxDepth = 10000

// scanner validates one JSON value in a buffer. It keeps its own stack
// instead of recursing, so hostile nesting costs a byte per level.
type scanner struct {
	stack []byte
	// children are the members of the value when it is an object, found
	// on the way, so that a reader of the value need not scan it again
	// to split it.
	children []span
	open     bool // a child's value has started and not ended
	// fields are the members of the children that are objects; each
	// child's g0, g1 index them.
	fields []span
	open2  bool
	// kept spans stay from one value to the next: those of the members
	// a Doc holds (see Doc.hold).
	keptC, keptF int
}

// span locates one member of an object value: its raw key [k0, k1) and
// raw value [v0, v1), as offsets into the value's bytes; for a member
// of the outermost object, its own members are fields[g0:g1] (indexes
// into the whole array, kept spans included).
type span struct{ k0, k1, v0, v1, g0, g1 int }

// value validates the JSON value that starts at b[i] (after white space)
// and returns the offset just past it. depth is the nesting the value
// already sits in. It returns errNeedMore when b ends before the value
// does, or a *syntaxError.
func (s *scanner) value(b []byte, i, depth int) (int, error) {
	s.stack = s.stack[:0]
	s.children, s.open = s.children[:s.keptC], false
	s.fields, s.open2 = s.fields[:s.keptF], false
	start := skipSpace(b, i)
	var err error
	for {
		// A value is expected at i.
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, errNeedMore
		}
		if s.open && len(s.stack) == 1 && s.children[len(s.children)-1].v0 < 0 {
			s.children[len(s.children)-1].v0 = i - start
		}
		if s.open2 && len(s.stack) == 2 && s.fields[len(s.fields)-1].v0 < 0 {
			s.fields[len(s.fields)-1].v0 = i - start
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
				s.fields[len(s.fields)-1].v1 = i - start
				s.open2 = false
			}
			if s.open && len(s.stack) == 1 {
				c := &s.children[len(s.children)-1]
				c.v1, c.g1 = i-start, len(s.fields)
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
	sp := span{k0: k0 - start, k1: k1 - start, v0: -1}
	if depth == 1 {
		sp.g0, sp.g1 = len(s.fields), len(s.fields)
		s.children = append(s.children, sp)
		s.open = true
		return
	}
	s.fields = append(s.fields, sp)
	s.open2 = true
}
