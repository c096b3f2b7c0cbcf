// Package streamtest holds the inputs that the tests of filter and of
// its JSON stream engine share: hand-made hard cases for reading on
// several cores, and a benchmark stream made of real captures. Only
// tests import it.
package streamtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FailEntry is a state entry modelled on the corpus's
// test.fail_without_changes.
const FailEntry = `{"name": "this state always fails", "changes": {}, "result": false, "comment": "Failure!", "__sls__": "failures", "__run_num__": 1, "start_time": "07:49:40.880133", "duration": 0.707, "__id__": "fail_test"}`

// FailDoc is one minion's document, on one line, with FailEntry.
func FailDoc(minion string) string {
	return `{"` + minion + `": {"test_|-fail_test_|-this state always fails_|-fail_without_changes": ` + FailEntry + `}}`
}

func fleet(n int, doc func(i int) string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(doc(i) + "\n")
	}
	return b.String()
}

func minion(i int) string { return "m" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) }

// Fleet is 40 one-line documents with a failed state each.
func Fleet() string { return fleet(40, func(i int) string { return FailDoc(minion(i)) }) }

// Text is 150 lines that are not JSON.
func Text() string { return fleet(150, func(i int) string { return "jid: 2026112510" + minion(i) }) }

// Hard returns inputs that are hard to cut right: where a '{' opens a
// line inside a document, documents larger than a segment, faults late
// in the stream. Read with segments of a few hundred bytes.
func Hard() map[string]string {
	fails := Fleet()
	// A '{' opens a line inside a document: a wrong cut.
	nested := fleet(30, func(i int) string { return "{\"" + minion(i) + "\":\n{\"x_|-a_|-b_|-c\":\n" + FailEntry + "}}" })
	// One document far larger than a segment between small ones.
	var big strings.Builder
	big.WriteString("{\"huge\": {")
	for i := 0; i < 60; i++ {
		if i > 0 {
			big.WriteString(",\n    ")
		}
		big.WriteString("\"test_|-s" + minion(i) + "_|-n_|-fail_without_changes\": " + FailEntry)
	}
	big.WriteString("}}\n")
	pings := fleet(300, func(i int) string { return `{"id": "` + minion(i) + `", "fun": "test.ping", "return": true}` })
	text := Text()
	return map[string]string{
		"fleet":                    fails,
		"wrong cuts":               nested,
		"wrong cut, then fleet":    nested + fails,
		"a huge document":          fails + big.String() + fails,
		"a huge document first":    big.String() + fails,
		"only a huge document":     big.String(),
		"huge documents in a row":  big.String() + big.String() + fails + big.String(),
		"notes past the cap":       pings + fails + pings,
		"text past the cap":        text + fails + text + "Minion web1 did not respond. No job will be sent.\n" + fails,
		"text only":                text,
		"documents on one line":    strings.ReplaceAll(fails, "\n", "") + "\n" + fails,
		"truncated late":           fails + fails[:len(fails)/2],
		"truncated in a wrong cut": nested[:len(nested)-40],
		"syntax error late":        fails + "{\"bad\": tru}\n" + fails,
		"NUL late":                 fails + "\x00" + fails,
		"bad UTF-8 in text late":   fails + "oops \xff\n" + fails,
		"byte-order marks":         "\xef\xbb\xbf" + fails + "\xef\xbb\xbf" + fails,
		"CR LF":                    strings.ReplaceAll(fails, "\n", "\r\n"),
		"no newline at the end":    strings.TrimSuffix(fails, "\n"),
		// What the salt CLI prints when a job did not run: a document
		// that is one JSON string, or a text line then an empty map.
		"a bare string between documents": fails + "\"Salt request timed out. The master is not responding.\"\n" + fails + "  \"a \\\"quoted\\\" one\"  \r\n",
		"a bare string alone":             "\"Salt request timed out.\"",
		"no minion matched":               "No minions matched the target. No command was sent, no jid was assigned.\n{}\n",
		"a quoted line that is text":      "\"quoted\" then text\n\"unterminated\n" + fails,
	}
}

// BenchStream builds a stream of about size bytes from real one-line
// minion documents of the corpus (mostly clean, some changed, a few
// failed), each under a new minion id.
func BenchStream(tb testing.TB, corpus string, size int) []byte {
	tb.Helper()
	var docs [][]byte
	// Weights: clean runs dominate a real fleet.
	for _, f := range []struct {
		name   string
		weight int
	}{
		{"salt.state.apply.nochange.json-indent-1.out", 12},
		{"salt.state.apply.changes.json-indent-1.out", 3},
		{"salt.state.apply.diff.json-indent-1.out", 2},
		{"salt.state.apply.failures.json-indent-1.out", 1},
	} {
		raw, err := os.ReadFile(filepath.Join(corpus, "master", f.name))
		if err != nil {
			tb.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
		for i := 0; i < f.weight; i++ {
			docs = append(docs, lines[i%len(lines)])
		}
	}
	var out bytes.Buffer
	for i := 0; out.Len() < size; i++ {
		d := docs[i%len(docs)]
		// Rename the minion: {"minionN": ... -> {"host<i>": ...
		end := bytes.IndexByte(d[2:], '"') + 2
		out.WriteString(`{"host` + strconv.Itoa(i) + `"`)
		out.Write(d[end+1:])
		out.WriteByte('\n')
	}
	return out.Bytes()
}
