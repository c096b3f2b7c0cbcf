package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/saltmail/saltmail/filter/internal/streamtest"
)

// inOrderAndCut reads the inputs twice, in order and cut into segments
// of a few hundred bytes read on three workers, and fails unless both
// give the same verdict and errors.
func inOrderAndCut(t *testing.T, opts Options, src func([]byte) io.Reader, inputs ...[]byte) *Verdict {
	t.Helper()
	read := func(procs int) (*Verdict, []string) {
		opts.Procs = procs
		e := NewEvaluator(opts)
		e.segSize, e.segMax = 97, 400
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
	watched := DefaultOptions()
	watched.KeepSucceeded = true
	rule, err := ParseRule(Ignore, "minion=ma*")
	if err != nil {
		t.Fatal(err)
	}
	watched.Rules = []Rule{rule}
	for name, in := range streamtest.Hard() {
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
	fails, nested := streamtest.Fleet(), streamtest.Hard()["wrong cuts"]
	t.Run("two inputs, the second without documents", func(t *testing.T) {
		inOrderAndCut(t, DefaultOptions(), whole, []byte(fails), []byte(streamtest.Text()))
	})
	t.Run("a read error late", func(t *testing.T) {
		inOrderAndCut(t, DefaultOptions(), func(b []byte) io.Reader {
			return io.MultiReader(bytes.NewReader(b), iotest.ErrReader(errors.New("disk on fire")))
		}, []byte(fails), []byte(nested), []byte(fails+fails[:100]))
	})
}

// A minion map is let go once its members (keys too) pass the hold
// limit: ten members with 5 MiB keys are not all held at once.
func TestHugeKeysAreNotHeld(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 10; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"m%d%s": {"a_|-b_|-c_|-d": {"result": false, "changes": {}, "comment": "x", "__run_num__": 0}}`, i, strings.Repeat("k", 5<<20))
	}
	b.WriteString("}")
	in := b.String()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := Evaluate(strings.NewReader(in), "keys", DefaultOptions())
	runtime.ReadMemStats(&after)
	if err != nil || v.Minions != 10 {
		t.Fatalf("%v, %d minions", err, v.Minions)
	}
	// held whole, the 50 MiB document would cost a buffer of 64 MiB and
	// more; member by member, a few buffers of 8 MiB
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 96<<20 {
		t.Errorf("allocated %d MiB for 10 members of 5 MiB", alloc>>20)
	}
}
