package filter

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/saltmail/saltmail/internal/golden"
)

// FuzzEvaluate: no input panics; a failure is an *InputError with one
// line; and the verdict does not depend on how reads split the input,
// nor on how it is cut to be read on several cores. (FuzzRead in
// internal/jsonstream checks the reader itself, and its walk of values
// against gjson's.)
func FuzzEvaluate(f *testing.F) {
	golden.Seed(f)
	f.Add([]byte(failDoc("m1") + "\n{\"m2\": \"Minion did not return\"}"))
	f.Add([]byte("jid: 1\n\xef\xbb\xbf{\"a\": [\"x\"]}\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, err1 := Evaluate(strings.NewReader(string(in)), "f", DefaultOptions())
		split, err2 := Evaluate(iotest.HalfReader(strings.NewReader(string(in))), "f", DefaultOptions())
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors differ: %v / %v", err1, err2)
		}
		if err1 != nil {
			if _, ok := err1.(*InputError); !ok {
				t.Fatalf("not an InputError: %T %v", err1, err1)
			}
			if strings.Contains(err1.Error(), "\n") {
				t.Fatalf("multi-line error %q", err1)
			}
			if err1.Error() != err2.Error() {
				t.Fatalf("error position depends on reads: %v / %v", err1, err2)
			}
		} else if whole.Status == Unknown {
			t.Fatal("unknown status without an error")
		}
		a, _ := json.Marshal(whole)
		b, _ := json.Marshal(split)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("verdict depends on reads:\n%s\n%s", a, b)
		}
		inOrderAndCut(t, DefaultOptions(), halves, in)
	})
}
