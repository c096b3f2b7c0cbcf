package jsonstream

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a JSON value, told by its first byte.
type Kind uint8

const (
	Invalid Kind = iota // no value at all: empty bytes
	Null
	False
	True
	Number
	String
	Object
	Array
)

// Value is one JSON value: its raw bytes and, when the reader found
// them while validating it, where its members lie (and theirs), so that
// walking them needs no second scan.
type Value struct {
	// Raw is the value's JSON. A Value made from bytes must be valid
	// JSON (all that the reader hands out is).
	Raw []byte
	// kids are Raw's members, at offsets base bytes before Raw; when
	// deep, their own members are sub[g0:g1].
	kids    []span
	sub     []span
	base    int
	deep    bool
	located bool
}

// Kind tells what the value is.
func (v Value) Kind() Kind {
	raw := v.Raw
	if len(raw) > 0 && isSpace(raw[0]) {
		raw = raw[skipSpace(raw, 0):] // made from bytes: the reader's have none
	}
	if len(raw) == 0 {
		return Invalid
	}
	switch c := raw[0]; {
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == '"':
		return String
	case c == 't':
		return True
	case c == 'f':
		return False
	case c == 'n':
		return Null
	case c == '-' || isDigit(c):
		return Number
	}
	return Invalid
}

// Each calls fn with each member of an object, in order, until fn
// returns false; it calls nothing for other values. The key is decoded
// and valid during the call; val shares v's bytes. Members the reader
// located are walked without scanning; others are scanned first.
func (v Value) Each(fn func(key []byte, val Value) bool) {
	if !v.located {
		if v.Kind() != Object {
			return
		}
		v = locate(v.Raw)
	}
	var buf []byte
	for i := range v.kids {
		var key []byte
		key, buf = v.key(i, buf)
		if !fn(key, v.kid(i)) {
			return
		}
	}
}

// Find sets found[i] to the value of v's first member named keys[i],
// or to no value (Kind Invalid) when there is none, and stops reading
// once every key is found: a few fields of a large object for the cost
// of a walk without calls. found has a slot for each key; a key named
// twice is found once, in its first slot.
func (v Value) Find(keys []string, found []Value) {
	if !v.located && v.Kind() == Object {
		v = locate(v.Raw)
	}
	var buf []byte
	var seen uint64 // keys found, by index; a key past 64 is never sought
	keys = keys[:min(len(keys), 64)]
	left := len(keys)
	for i := 0; i < len(v.kids) && left > 0; i++ {
		// decodeKey, by hand: this loop reads every state's fields.
		sp := &v.kids[i]
		key := v.Raw[sp.k0-v.base+1 : sp.k1-v.base-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			buf = appendUnescaped(buf[:0], key)
			key = buf
		}
		for j, k := range keys {
			// The first byte first: most keys differ there.
			if len(key) == len(k) && (len(k) == 0 || key[0] == k[0]) && string(key) == k {
				if seen&(1<<j) == 0 {
					seen |= 1 << j
					found[j] = v.kid(i)
					left--
				}
				break
			}
		}
	}
	for j := range found {
		if seen&(1<<j) == 0 {
			found[j] = Value{}
		}
	}
}

// key decodes the key of v's i-th member (see decodeKey).
func (v *Value) key(i int, buf []byte) ([]byte, []byte) {
	sp := &v.kids[i]
	return decodeKey(v.Raw[sp.k0-v.base:sp.k1-v.base], buf)
}

// kid is v's i-th member's value, located when v's members' members are.
func (v *Value) kid(i int) Value {
	sp := &v.kids[i]
	val := Value{Raw: v.Raw[sp.v0-v.base : sp.v1-v.base]}
	if v.deep {
		val.kids, val.base, val.located = v.sub[sp.g0:sp.g1], sp.v0, true
	}
	return val
}

// locate scans raw, an object, for its members and theirs.
func locate(raw []byte) Value {
	raw = raw[skipSpace(raw, 0):]
	var s scanner
	if _, err := s.value(raw, 0, 0); err != nil {
		return Value{Raw: raw, located: true} // not valid JSON: no members
	}
	return Value{Raw: raw, kids: s.children, sub: s.fields, deep: true, located: true}
}

// decodeKey returns the text of the raw JSON string key: a slice of it
// when it has no escapes, else decoded into buf (returned for reuse).
func decodeKey(raw, buf []byte) (key, _ []byte) {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		buf = appendUnescaped(buf[:0], s)
		return buf, buf
	}
	return s, buf
}

// appendUnescaped appends the text of a valid JSON string's contents,
// decoded as gjson decodes it (a lone surrogate becomes U+FFFD), so that
// keys read here and keys read through gjson are the same.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			dst = append(dst, s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+1:])
			i += 4
			if r >= 0xD800 && r < 0xDC00 && len(s)-i > 6 && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2 := hex4(s[i+3:]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = utf16.DecodeRune(r, r2)
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n)
}
