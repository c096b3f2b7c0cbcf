package filter

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
	"github.com/saltmail/saltmail/filter/internal/streamtest"
)

// A state entry modelled on the corpus's test.fail_without_changes, and
// a minion's document with it.
const failEntry = streamtest.FailEntry

func failDoc(minion string) string { return streamtest.FailDoc(minion) }

func TestBadInput(t *testing.T) {
	deep := strings.Repeat("[", jsonstream.MaxDepth+1) + strings.Repeat("]", jsonstream.MaxDepth+1)
	cases := []struct {
		name, in string
		line     int
		off      int64
		msg      string
		minions  int // documents that parsed before the fault still count
	}{
		{"empty", "", 1, 0, "no JSON document", 0},
		{"white space only", " \n\t\r\n", 3, 5, "no JSON document", 0},
		{"text only", "jid: 20261125075159799969\n", 2, 26, "no JSON document", 0},
		{"truncated", "{\n  \"m1\": {\"a\": 1", 2, 17, "input ends inside the document that starts at line 1", 0},
		{"truncated after a good one", failDoc("m1") + "\n" + `{"m2": {`, 2, 8 + int64(len(failDoc("m1"))+1), "truncated", 1},
		{"invalid json", `{"m1": {"a": tru}}`, 1, 16, "invalid character '}' in literal true", 0},
		{"missing comma", "{\"m1\": 1\n \"m2\": 2}", 2, 10, "after top-level value", 0},
		{"bad escape", `{"m1": "a\q"}`, 1, 9, "invalid escape 'q'", 0},
		{"invalid utf-8 in a string", "{\"m1\": \"caf\xe9\"}", 1, 11, "invalid UTF-8", 0},
		{"invalid utf-8 in text", "hello \xff\n", 1, 6, "invalid UTF-8", 0},
		{"NUL in a string", "{\"m1\": \"a\x00\"}", 1, 9, "NUL byte", 0},
		{"NUL in text", "jid\x00\n", 1, 3, "NUL byte", 0},
		{"NUL between documents", failDoc("m1") + "\x00", 1, int64(len(failDoc("m1"))), "NUL byte", 1},
		{"too deep", `{"m1": ` + deep + `}`, 1, 7 + jsonstream.MaxDepth - 1, "nesting deeper than 10000", 0},
		{"number cut", `{"m1": 1.}`, 1, 9, "after decimal point", 0},
		{"key not a string", `{m1: 1}`, 1, 1, "looking for an object key", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Evaluate(strings.NewReader(c.in), "in.json", DefaultOptions())
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("want *InputError, got %v", err)
			}
			if ie.Name != "in.json" || ie.Line != c.line || ie.Offset != c.off || !strings.Contains(ie.Msg, c.msg) {
				t.Errorf("got %q (line %d, byte %d), want line %d, byte %d, containing %q", ie.Error(), ie.Line, ie.Offset, c.line, c.off, c.msg)
			}
			if strings.Contains(ie.Error(), "\n") {
				t.Errorf("error spans lines: %q", ie.Error())
			}
			if v.Status != Unknown || v.InputError == "" {
				t.Errorf("status %v, input %q: want unknown with the reason", v.Status, v.InputError)
			}
			if v.Minions != c.minions {
				t.Errorf("%d minions counted before the fault, want %d", v.Minions, c.minions)
			}
		})
	}
}

// A --static document cut off mid-stream still shows the minions that
// arrived whole.
func TestTruncatedStaticKeepsWholeMinions(t *testing.T) {
	in := `{"m1": {"test_|-fail_test_|-this state always fails_|-fail_without_changes": ` + failEntry + `}, "m2": {"test_|-x_|-x_|-y": {"result": tr`
	v, err := Evaluate(strings.NewReader(in), "cut.json", DefaultOptions())
	if err == nil {
		t.Fatal("no error for a cut document")
	}
	if v.Minions != 1 || v.Failed != 1 || v.Results[0].ID != "m1" {
		t.Errorf("got %d minions, %d failed: want m1 with its failure", v.Minions, v.Failed)
	}
}

func TestHostileButValid(t *testing.T) {
	big := strings.Repeat("x", 50<<20)
	nested := strings.Repeat(`{"a":`, 3000) + "1" + strings.Repeat("}", 3000)
	entry := func(fields string) string {
		return `{"m1": {"test_|-s_|-s_|-configurable_test_state": {` + fields + `, "__run_num__": 0}}}`
	}
	cases := []struct {
		name                     string
		in                       string
		status                   Status
		failed, changed, pending int
	}{
		{"50 MB comment", entry(`"result": false, "changes": {}, "comment": "` + big + `"`), Critical, 1, 0, 0},
		{"deep changes", entry(`"result": true, "changes": ` + nested), Warning, 0, 1, 0},
		{"byte-order mark", "\xef\xbb\xbf" + entry(`"result": true, "changes": {"a": 1}`), Warning, 0, 1, 0},
		{"CRLF", strings.ReplaceAll("{\n\"m1\": {\n\"test_|-s_|-s_|-t\": {\"result\": null, \"changes\": {}}\n}\n}\n", "\n", "\r\n"), Warning, 0, 0, 1},
		{"1e999", entry(`"result": true, "changes": {}, "duration": 1e999`), OK, 0, 0, 0},
		{"duplicate keys", entry(`"result": false, "result": true, "changes": {}`), Critical, 1, 0, 0},
		{"missing fields", entry(`"comment": "no result"`), Critical, 1, 0, 0},
		{"result as a string", entry(`"result": "False", "changes": {}`), Critical, 1, 0, 0},
		{"result True as a string", entry(`"result": "True", "changes": "x"`), Warning, 0, 1, 0},
		{"name false, list comment", entry(`"result": true, "changes": {"a": 1}, "name": false, "comment": ["a", "b"]`), Warning, 0, 1, 0},
		{"empty changes of every kind", entry(`"result": true, "changes": []`), OK, 0, 0, 0},
		// Salt's rule: truthy changes that are not a dict are "Invalid
		// Changes data", and still a change.
		{"changes a number", entry(`"result": true, "changes": 5`), Warning, 0, 1, 0},
		{"changes zero", entry(`"result": true, "changes": 0.0`), OK, 0, 0, 0},
		{"changes true", entry(`"result": true, "changes": true`), Warning, 0, 1, 0},
		{"changes false", entry(`"result": true, "changes": false`), OK, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Evaluate(strings.NewReader(c.in), "in.json", DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != c.status || v.Failed != c.failed || v.Changed != c.changed || v.Pending != c.pending {
				t.Errorf("got %v f=%d c=%d p=%d, want %v f=%d c=%d p=%d", v.Status, v.Failed, v.Changed, v.Pending, c.status, c.failed, c.changed, c.pending)
			}
		})
	}
}

// A flood of notes is counted, not kept, read in order or on two cores
// (merged segments keep the first notes).
func TestManyTinyDocuments(t *testing.T) {
	var b bytes.Buffer
	const n = 300000
	for i := 0; i < n; i++ {
		b.WriteString(`{"m": true}` + "\n")
	}
	b.WriteString(failDoc("last") + "\n")
	for _, procs := range []int{1, 2} {
		opts := DefaultOptions()
		opts.Procs = procs
		v, err := Evaluate(bytes.NewReader(b.Bytes()), "tiny", opts)
		if err != nil {
			t.Fatal(err)
		}
		if v.Minions != 1 || v.Failed != 1 || v.Dropped != n-maxNotes || len(v.Notes) != maxNotes || v.Documents != n+1 {
			t.Errorf("%d cores: minions %d failed %d notes %d dropped %d documents %d", procs, v.Minions, v.Failed, len(v.Notes), v.Dropped, v.Documents)
		}
	}
}

// Reading byte by byte must give what reading at once gives: every
// split point of the buffer is exercised.
func TestOneByteReads(t *testing.T) {
	in := "jid: 1\n\xef\xbb\xbf" + failDoc("m1") + "\r\n" + `{"m2": {"cmd_|-c_|-ünï \"q\"_|-run": {"result": true, "changes": {"retcode": 0}, "comment": "caf\u00e9 \n"}}}` + "\n"
	whole, err := Evaluate(strings.NewReader(in), "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	bytewise, err := Evaluate(iotest.OneByteReader(strings.NewReader(in)), "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if whole.Failed != 1 || whole.Changed != 1 || bytewise.Failed != 1 || bytewise.Changed != 1 || len(bytewise.Warnings) != 1 {
		t.Errorf("whole %+v\nbytewise %+v", whole.Counts, bytewise.Counts)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		k := copy(p, failDoc("m1")[:f.n])
		f.n = 0
		return k, nil
	}
	return 0, io.ErrUnexpectedEOF
}

func TestReadError(t *testing.T) {
	_, err := Evaluate(&failingReader{n: 10}, "pipe", DefaultOptions())
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
}

func TestTextLinesWarn(t *testing.T) {
	in := "\nExecuting run on ['minion1']\n\n" + failDoc("minion1") + "\n[WARNING ] " + strings.Repeat("long ", 1000) + "\n"
	v, err := Evaluate(strings.NewReader(in), "batch", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Warnings) != 2 || !strings.Contains(v.Warnings[0], "line 2") || !strings.Contains(v.Warnings[0], "Executing run on") {
		t.Fatalf("warnings %q", v.Warnings)
	}
	if len(v.Warnings[1]) > 300 {
		t.Errorf("a long text line is kept whole in its warning (%d bytes)", len(v.Warnings[1]))
	}
}

// A help text Salt prints (state.sls_id for an unknown ID: about 40
// lines) is told in a few lines and a count, per input; a terminal's
// escapes in it are shown, not sent to the terminal.
func TestTextLinesAreCappedPerInput(t *testing.T) {
	help := strings.Repeat("Usage: salt [options] <target> <function> [arguments]\n", 40)
	in := "\x1b[0;31mERROR\x1b[0m: no such ID\n" + help + failDoc("m1") + "\n"
	for _, procs := range []int{1, 3} {
		e := NewEvaluator(Options{ResultPath: "result", ChangesPath: "changes", CommentPath: "comment", StateFuns: DefaultOptions().StateFuns, Procs: procs})
		e.segSize, e.segMax = 97, 400
		for _, name := range []string{"first", "second"} {
			if err := e.Read(strings.NewReader(in), name); err != nil {
				t.Fatal(err)
			}
		}
		v := e.Verdict()
		want := []string{
			`first: line 1: skipped a line that is not JSON: \x1b[0;31mERROR\x1b[0m: no such ID`,
			"first: line 2: skipped a line that is not JSON: Usage: salt [options] <target> <function> [arguments]",
			"first: line 3: skipped a line that is not JSON: Usage: salt [options] <target> <function> [arguments]",
			"first: 38 more lines that are not JSON were skipped",
			`second: line 1: skipped a line that is not JSON: \x1b[0;31mERROR\x1b[0m: no such ID`,
		}
		if len(v.Warnings) != 8 || strings.Join(v.Warnings[:5], "\n") != strings.Join(want, "\n") || v.Dropped != 0 || v.Failed != 2 {
			t.Errorf("procs %d: %d failed, %d dropped, warnings:\n%s", procs, v.Failed, v.Dropped, strings.Join(v.Warnings, "\n"))
		}
	}
}
