package jsonstream

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/saltmail/saltmail/filter/internal/streamtest"
)

// Every fault says where it is, in words that do not change: these are
// the messages saltmail printed before the reader had a package.
func TestErrorMessages(t *testing.T) {
	doc := streamtest.FailDoc("m1")
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	cases := []struct{ in, want string }{
		{"", "line 1, byte 0: no JSON document in the input"},
		{" \n\t\r\n", "line 3, byte 5: no JSON document in the input"},
		{"jid: 20261125075159799969\n", "line 2, byte 26: no JSON document in the input"},
		{"[1]\n", "line 2, byte 4: no JSON document in the input"},
		{"{\n  \"m1\": {\"a\": 1", "line 2, byte 17: input ends inside the document that starts at line 1 (truncated?)"},
		{doc + "\n" + `{"m2": {`, "line 2, byte 294: input ends inside the document that starts at line 2 (truncated?)"},
		{`{"m1": {"a": tru}}`, "line 1, byte 16: invalid character '}' in literal true (in the document that starts at line 1)"},
		{"{\"m1\": 1\n \"m2\": 2}", `line 2, byte 10: invalid character '"' after top-level value (expecting ',' or '}') (in the document that starts at line 1)`},
		{`{"m1": "a\q"}`, "line 1, byte 9: invalid escape 'q' in string (in the document that starts at line 1)"},
		{"{\"m1\": \"caf\xe9\"}", "line 1, byte 11: invalid UTF-8 in string (in the document that starts at line 1)"},
		{"hello \xff\n", "line 1, byte 6: invalid UTF-8 in the input"},
		{"{\"m1\": \"a\x00\"}", "line 1, byte 9: NUL byte in string (in the document that starts at line 1)"},
		{"jid\x00\n", "line 1, byte 3: NUL byte in the input"},
		{doc + "\x00", "line 1, byte 285: NUL byte in the input"},
		{`{"m1": ` + deep + `}`, "line 1, byte 10006: nesting deeper than 10000 levels (in the document that starts at line 1)"},
		{`{"m1": 1.}`, "line 1, byte 9: invalid character '}' in numeric literal (after decimal point) (in the document that starts at line 1)"},
		{`{"a": -}`, "line 1, byte 7: invalid character '}' in numeric literal (in the document that starts at line 1)"},
		{`{"a": 1e}`, "line 1, byte 8: invalid character '}' in numeric literal (in exponent) (in the document that starts at line 1)"},
		{`{"a": "\u12x4"}`, `line 1, byte 7: invalid \u escape in string (in the document that starts at line 1)`},
		{`{m1: 1}`, "line 1, byte 1: invalid character 'm' looking for an object key (in the document that starts at line 1)"},
		{`{"a" 1}`, "line 1, byte 5: invalid character '1' after object key (expecting ':') (in the document that starts at line 1)"},
		{`{"a": [1 2]}`, "line 1, byte 9: invalid character '2' after array element (expecting ',' or ']') (in the document that starts at line 1)"},
		{"{\"a\": 1}\n{\"b\": [1,\n2,\n}\n", "line 4, byte 22: invalid character '}' looking for a value (in the document that starts at line 2)"},
		{`{"a": 1}}`, ""}, // the stray '}' is a line that is not JSON
	}
	for _, c := range cases {
		for _, procs := range []int{1, 3} {
			_, err := record(t, []byte(c.in), whole, procs, 0)
			if want := "in.json: " + c.want; c.want == "" && err != "" || c.want != "" && err != want {
				t.Errorf("%.40q on %d cores: got %q, want %q", c.in, procs, err, want)
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	doc := streamtest.FailDoc("m1")
	for in, want := range map[string]string{
		doc + "\n{\"m2\": ": "pipe: line 2, byte 293: read error inside the document that starts at line 2: disk on fire",
		doc + "\n":          "pipe: line 2, byte 286: read error: disk on fire",
	} {
		fire := errors.New("disk on fire")
		err := Read(io.MultiReader(strings.NewReader(in), iotest.ErrReader(fire)), "pipe", &recorder{t: t}, Options{})
		var ie *InputError
		if !errors.As(err, &ie) || err.Error() != want || !errors.Is(err, fire) {
			t.Errorf("got %v, want %q wrapping the read error", err, want)
		}
	}
}
