package filter

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/saltmail/saltmail/filter/internal/streamtest"
)

// BenchmarkEvaluateStream reads on every core, BenchmarkEvaluateInOrder
// on one; TotalsOnly is what `saltmail check` does. (The reader alone:
// BenchmarkReader in internal/jsonstream.)
func BenchmarkEvaluateStream(b *testing.B)           { benchEvaluate(b, runtime.GOMAXPROCS(0), false) }
func BenchmarkEvaluateStreamTotalsOnly(b *testing.B) { benchEvaluate(b, runtime.GOMAXPROCS(0), true) }
func BenchmarkEvaluateInOrder(b *testing.B)          { benchEvaluate(b, 1, false) }

func benchEvaluate(b *testing.B, procs int, totals bool) {
	in := streamtest.BenchStream(b, filepath.Join("..", "testdata", "corpus"), 32<<20)
	opts := DefaultOptions()
	opts.TotalsOnly = totals
	opts.Procs = procs
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := Evaluate(bytes.NewReader(in), "bench", opts)
		if err != nil || v.Minions == 0 {
			b.Fatal(err)
		}
	}
}
