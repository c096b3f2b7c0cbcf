package jsonstream

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// A member over Options.MaxValue is an input error at its start, the
// same read in order or cut into segments; what came before is heard.
func TestMaxValue(t *testing.T) {
	small := `{"m1": {"a": "` + strings.Repeat("x", 50) + `"}}`
	big := `{"m2": {"a": "` + strings.Repeat("y", 500) + `"}}`
	cases := []struct{ in, want string }{
		{small + "\n" + small, ""},
		{small + "\n" + big + "\n" + small, "in.json: line 2, byte 69: a member of more than 200 bytes (the bound on one value; in the document that starts at line 2)"},
		{"{\n \"m1\": 1,\n  \"m2\": \"" + strings.Repeat("z", 300), "in.json: line 3, byte 14: a member of more than 200 bytes (the bound on one value; in the document that starts at line 1)"},
	}
	for i, c := range cases {
		for _, procs := range []int{1, 4} {
			for name, src := range map[string]func([]byte) io.Reader{"whole": whole, "halves": halves, "bytes": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }} {
				r := &recorder{t: t, each: true}
				err := Read(src([]byte(c.in)), "in.json", r, Options{Procs: procs, SegmentSize: 97, SegmentMax: 400, MaxValue: 200})
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != c.want {
					t.Errorf("case %d, %d procs, %s: got %q, want %q", i, procs, name, got, c.want)
				}
				if c.want != "" && !strings.Contains(strings.Join(r.log, "\n"), `"m1"`) {
					t.Errorf("case %d, %d procs, %s: the member before the fault was not heard: %q", i, procs, name, r.log)
				}
			}
		}
	}
}

// endless is a document whose one string never ends.
type endless struct{ head bool }

func (e *endless) Read(p []byte) (int, error) {
	if !e.head {
		e.head = true
		return copy(p, `{"web1": {"cmd_|-a_|-b_|-run": {"comment": "`), nil
	}
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// An endless value (a runaway command's output) stops at the bound, in
// memory of a small multiple of it.
func TestEndlessValueStopsAtBound(t *testing.T) {
	const bound = 8 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := Read(&endless{}, "run", &recorder{t: t}, Options{MaxValue: bound})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "a member of more than 8388608 bytes") {
		t.Fatalf("got %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*bound {
		t.Errorf("allocated %d MB for a bound of %d MB", alloc>>20, bound>>20)
	}
}

// spaces is a document that opens, has a member (or none), then white
// space for ever.
type spaces struct {
	head string
	done bool
}

func (s *spaces) Read(p []byte) (int, error) {
	if !s.done {
		s.done = true
		return copy(p, s.head), nil
	}
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// White space inside a document counts toward the bound, or is let go:
// `{` then a gigabyte of blanks (a runaway child) stays flat.
func TestEndlessSpaceStopsAtBound(t *testing.T) {
	const bound = 4 << 20
	for _, head := range []string{"{", `{"web1": {"a": 1},`, `{"web1": {"a": 1}`} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		done := make(chan error, 1)
		go func() {
			done <- Read(io.LimitReader(&spaces{head: head}, 200<<20), "run", &recorder{t: t}, Options{MaxValue: bound})
		}()
		err := <-done
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*bound {
			t.Errorf("%q then blanks: allocated %d MB for a bound of %d MB (%v)", head, alloc>>20, bound>>20, err)
		}
	}
}

// A document held whole (the handler never releases it: an event's
// shape needs all of it) is bounded too, whatever its members' sizes.
func TestHeldDocumentBound(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"fun": "state.apply"`)
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, `, "k%d": "%s"`, i, strings.Repeat("x", 100<<10))
	}
	b.WriteString("}")
	err := Read(strings.NewReader(b.String()), "ev", &recorder{t: t}, Options{MaxValue: 200 << 10})
	if err == nil || !strings.Contains(err.Error(), "held whole") {
		t.Errorf("got %v", err)
	}
}
