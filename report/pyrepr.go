package report

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"
)

// pyStr is Python's str() of what json.loads makes of v: how Salt's
// outputter prints changes that are not a dict ("Invalid Changes data").
func pyStr(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	var b strings.Builder
	pyRepr(&b, v, 0)
	return b.String()
}

// pyRepr writes Python's repr() of a decoded JSON value: lists and dicts
// with their items' reprs, strings in Python's quotes and escapes. It
// writes as it goes, and past maxDepth a note stands for the rest, so a
// value nested 10,000 deep costs no more than its size.
func pyRepr(b *strings.Builder, v gjson.Result, depth int) {
	switch {
	case depth >= maxDepth && (v.IsArray() || v.IsObject()):
		b.WriteString(deepNote)
	case v.Type == gjson.String:
		b.WriteString(pyQuote(v.Str))
	case v.Type == gjson.Number:
		b.WriteString(pyNumber(v.Raw))
	case v.IsArray():
		b.WriteByte('[')
		first := true
		v.ForEach(func(_, item gjson.Result) bool {
			if !first {
				b.WriteString(", ")
			}
			first = false
			pyRepr(b, item, depth+1)
			return true
		})
		b.WriteByte(']')
	case v.IsObject():
		// A dict keeps a duplicate key's first place and last value.
		var keys []string
		vals := map[string]gjson.Result{}
		v.ForEach(func(k, val gjson.Result) bool {
			if _, seen := vals[k.String()]; !seen {
				keys = append(keys, k.String())
			}
			vals[k.String()] = val
			return true
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k) + ": ")
			pyRepr(b, vals[k], depth+1)
		}
		b.WriteByte('}')
	default:
		b.WriteString(pyConst(v))
	}
}

// pyQuote is Python's repr() of a str: single quotes unless the text
// holds one and no double quote; non-printable characters escaped.
func pyQuote(s string) string {
	q := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteRune(q)
	for _, r := range s {
		switch {
		case r == q || r == '\\':
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(q)
	return b.String()
}
