package jsonstream

import (
	"bytes"
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
