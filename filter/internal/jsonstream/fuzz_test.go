package jsonstream

import (
	"testing"

	"github.com/saltmail/saltmail/filter/internal/streamtest"
	"github.com/saltmail/saltmail/internal/golden"
)

// FuzzRead: no input panics; a failure is a one-line *InputError; what
// is heard, and the error with its line and byte, do not depend on how
// reads split the input, nor on how it is cut to be read on several
// cores, nor on releasing documents; held documents hold what was
// heard; and Each walks every value as gjson does (see recorder).
func FuzzRead(f *testing.F) {
	golden.Seed(f)
	for _, in := range streamtest.Hard() {
		if len(in) < 16<<10 {
			f.Add([]byte(in))
		}
	}
	f.Add([]byte("jid: 1\n\xef\xbb\xbf{\"a\": [\"x\"]}\r\n"))
	f.Add([]byte(`{"k\ud83d\ude00\"": {"\ud83d": {"x\n": 1e5}}, "b": {"c": {}}}` + "\n{\"d\": -0.5}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := record(t, in, whole, 1, 0)
		got, gotErr := record(t, in, halves, 1, 1)
		sameReading(t, "whole / halves", want, wantErr, got, gotErr)
		got, gotErr = record(t, in, whole, 3, 2)
		sameReading(t, "in order / cut", want, wantErr, got, gotErr)
	})
}
