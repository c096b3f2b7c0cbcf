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
	return pyRepr(v)
}

// pyRepr is Python's repr() of a decoded JSON value: lists and dicts
// with their items' reprs, strings in Python's quotes and escapes.
func pyRepr(v gjson.Result) string {
	switch {
	case v.Type == gjson.String:
		return pyQuote(v.Str)
	case v.Type == gjson.Number:
		return pyNumber(v.Raw)
	case v.IsArray():
		var items []string
		v.ForEach(func(_, item gjson.Result) bool {
			items = append(items, pyRepr(item))
			return true
		})
		return "[" + strings.Join(items, ", ") + "]"
	case v.IsObject():
		// A dict keeps a duplicate key's first place and last value.
		var keys []string
		vals := map[string]string{}
		v.ForEach(func(k, val gjson.Result) bool {
			if _, seen := vals[k.String()]; !seen {
				keys = append(keys, k.String())
			}
			vals[k.String()] = pyRepr(val)
			return true
		})
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = pyQuote(k) + ": " + vals[k]
		}
		return "{" + strings.Join(items, ", ") + "}"
	}
	return pyConst(v)
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
