package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// inOrderAndCut reads the inputs twice, in order and cut into segments
// of a few hundred bytes read on three workers, and fails unless both
// give the same verdict and errors.
func inOrderAndCut(t *testing.T, opts Options, src func([]byte) io.Reader, inputs ...[]byte) *Verdict {
	t.Helper()
	read := func(procs int) (*Verdict, []string) {
		e := NewEvaluator(opts)
		e.par.procs, e.par.size, e.par.max = procs, 97, 400
		var errs []string
		for i, in := range inputs {
			err := e.Read(src(in), "in"+string(rune('0'+i)))
			errs = append(errs, errString(err))
			var ie *InputError
			if err != nil && !errors.As(err, &ie) {
				t.Errorf("not an InputError: %T %v", err, err)
			}
		}
		return e.Verdict(), errs
	}
	want, wantErrs := read(1)
	got, gotErrs := read(3)
	if !reflect.DeepEqual(wantErrs, gotErrs) {
		t.Errorf("errors differ:\nin order: %q\ncut:      %q", wantErrs, gotErrs)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("verdicts differ: %s", verdictDiff(want, got))
	}
	return got
}

// verdictDiff names the first difference between two verdicts.
func verdictDiff(a, b *Verdict) string {
	for i := 0; i < min(len(a.Results), len(b.Results)); i++ {
		if !reflect.DeepEqual(a.Results[i], b.Results[i]) {
			x, _ := json.Marshal(a.Results[i])
			y, _ := json.Marshal(b.Results[i])
			return fmt.Sprintf("result %d:\n%s\n%s", i, x, y)
		}
	}
	ra, rb := a.Results, b.Results
	a.Results, b.Results = nil, nil
	defer func() { a.Results, b.Results = ra, rb }()
	return fmt.Sprintf("%d and %d results; otherwise\n%+v\n%+v", len(ra), len(rb), *a, *b)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func whole(b []byte) io.Reader { return bytes.NewReader(b) }

func halves(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }

func TestCutReadsLikeInOrder(t *testing.T) {
	// Every capture, then all of them as one stream.
	var all []byte
	for _, path := range corpusFiles(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inOrderAndCut(t, DefaultOptions(), whole, b)
		all = append(append(all, b...), '\n')
	}
	v := inOrderAndCut(t, DefaultOptions(), halves, all)
	if v.Minions < 100 {
		t.Errorf("only %d minions in the whole corpus", v.Minions)
	}
	totals := DefaultOptions()
	totals.TotalsOnly = true
	inOrderAndCut(t, totals, whole, all)
}

func TestCutReadsHardInputLikeInOrder(t *testing.T) {
	fleet := func(n int, doc func(i int) string) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(doc(i) + "\n")
		}
		return b.String()
	}
	minion := func(i int) string { return "m" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) }
	fails := fleet(40, func(i int) string { return failDoc(minion(i)) })
	// A '{' opens a line inside a document: a wrong cut.
	nested := fleet(30, func(i int) string { return "{\"" + minion(i) + "\":\n{\"x_|-a_|-b_|-c\":\n" + failEntry + "}}" })
	// One document far larger than a segment between small ones.
	var big strings.Builder
	big.WriteString("{\"huge\": {")
	for i := 0; i < 60; i++ {
		if i > 0 {
			big.WriteString(",\n    ")
		}
		big.WriteString("\"test_|-s" + minion(i) + "_|-n_|-fail_without_changes\": " + failEntry)
	}
	big.WriteString("}}\n")
	pings := fleet(300, func(i int) string { return `{"id": "` + minion(i) + `", "fun": "test.ping", "return": true}` })
	text := fleet(150, func(i int) string { return "jid: 2026112510" + minion(i) })
	cases := map[string]string{
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
	}
	watched := DefaultOptions()
	watched.KeepSucceeded = true
	rule, err := ParseRule(Ignore, "minion=ma*")
	if err != nil {
		t.Fatal(err)
	}
	watched.Rules = []Rule{rule}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			for _, opts := range []Options{DefaultOptions(), watched} {
				inOrderAndCut(t, opts, whole, []byte(in))
				inOrderAndCut(t, opts, halves, []byte(in))
				inOrderAndCut(t, opts, func(b []byte) io.Reader {
					return iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(b)))
				}, []byte(in))
			}
		})
	}
	t.Run("two inputs, the second without documents", func(t *testing.T) {
		inOrderAndCut(t, DefaultOptions(), whole, []byte(fails), []byte(text))
	})
	t.Run("a read error late", func(t *testing.T) {
		inOrderAndCut(t, DefaultOptions(), func(b []byte) io.Reader {
			return io.MultiReader(bytes.NewReader(b), iotest.ErrReader(errors.New("disk on fire")))
		}, []byte(fails), []byte(nested), []byte(fails+fails[:100]))
	})
}
