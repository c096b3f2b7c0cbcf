package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// nested writes a JSON value the way Salt's nested outputter does
// (salt/output/nested.py), which is how the highstate outputter shows a
// state's changes: keys sorted, each value 4 deeper than its key, a
// "----------" line before every nested map, "- " before list items and
// "|_" before nested ones, strings split into lines. depth is how many
// maps and lists hold v: past maxDepth a note stands for the rest.
func nested(b *strings.Builder, v gjson.Result, indent int, prefix string, depth int) {
	switch {
	case depth >= maxDepth && (v.IsArray() || v.IsObject()):
		line(b, indent, prefix+deepNote)
	case v.Type == gjson.Null, v.Type == gjson.True, v.Type == gjson.False:
		line(b, indent, prefix+pyConst(v))
	case v.Type == gjson.Number:
		line(b, indent, prefix+pyNumber(v.Raw))
	case v.Type == gjson.String:
		for i, l := range splitLines(v.Str) {
			if i == 1 {
				indent += len(prefix) // the prefix is all spaces from here
				prefix = ""
			}
			line(b, indent, prefix+stripEsc(l))
		}
	case v.IsArray():
		v.ForEach(func(_, item gjson.Result) bool {
			if item.IsArray() || item.IsObject() {
				line(b, indent, "|_")
				p := "- "
				if item.IsObject() {
					p = ""
				}
				nested(b, item, indent+2, p, depth+1)
			} else {
				nested(b, item, indent, "- ", depth+1)
			}
			return true
		})
	case v.IsObject():
		if indent > 0 {
			line(b, indent, "----------")
		}
		type kv struct {
			k string
			v gjson.Result
		}
		var kvs []kv
		v.ForEach(func(k, val gjson.Result) bool {
			kvs = append(kvs, kv{k.String(), val})
			return true
		})
		// Python sorts str keys by code point: byte order of UTF-8.
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		for i, e := range kvs {
			if i > 0 && e.k == kvs[i-1].k {
				continue // a duplicate key: Python's dict keeps one
			}
			line(b, indent, prefix+stripEsc(e.k)+":")
			nested(b, e.v, indent+4, "", depth+1)
		}
	}
}

// maxDepth bounds the nesting shown. Salt prints any depth, but its
// layout indents each level 4 more: changes 10,000 deep would take
// 200 MB of spaces. Real changes are a few levels deep; orchestration
// nested in orchestration adds orchDepth each.
const maxDepth = 32

var deepNote = fmt.Sprintf("(nested deeper than %d levels: not shown)", maxDepth)

// spaces indents lines without a new string per line.
const spaces = "                                                                "

func line(b *strings.Builder, indent int, s string) {
	for ; indent > len(spaces); indent -= len(spaces) {
		b.WriteString(spaces)
	}
	b.WriteString(spaces[:indent])
	b.WriteString(s)
	b.WriteByte('\n')
}

func pyConst(v gjson.Result) string {
	switch v.Type {
	case gjson.True:
		return "True"
	case gjson.False:
		return "False"
	}
	return "None"
}

// pyNumber writes a JSON number as Python's repr() of what json.loads
// makes of it: integers as written, floats in repr's shortest form.
func pyNumber(raw string) string {
	if !strings.ContainsAny(raw, ".eE") {
		if raw == "-0" {
			return "0"
		}
		return raw
	}
	f, _ := strconv.ParseFloat(raw, 64)
	return pyFloat(f)
}

// pyFloat is Python's repr(float): fixed notation for exponents from -4
// to 15 (with ".0" on whole numbers), scientific otherwise.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// splitLines is Python's str.splitlines(): every line boundary Python
// knows, no empty last line, and nothing at all for "".
func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		n := 0
		switch c := s[i]; {
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			n = 2
		case c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e:
			n = 1
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0x85: // U+0085
			n = 2
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9): // U+2028, U+2029
			n = 3
		}
		if n == 0 {
			i++
			continue
		}
		out = append(out, s[start:i])
		i += n
		start = i
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// stripEsc replaces ESC as Salt's outputters do, so minion data cannot
// send terminal control sequences.
func stripEsc(s string) string { return strings.ReplaceAll(s, "\x1b", "?") }
