package jsonstream

import (
	"bytes"
	"testing"

	"github.com/saltmail/saltmail/filter/internal/streamtest"
	"github.com/saltmail/saltmail/internal/golden"
)

// quiet hears a stream and does nothing: the reader alone.
type quiet struct{}

func (quiet) Text(Text)           {}
func (quiet) String(Value)        {}
func (quiet) Start(*Doc)          {}
func (quiet) Member(*Doc, Member) {}
func (quiet) End(*Doc)            {}
func (quiet) Cut(*Doc)            {}
func (q quiet) Fork() Handler     { return q }
func (quiet) Join(Handler)        {}

// BenchmarkReader reads in order, holding each document to its end as
// a handler that waits for a document's shape does.
func BenchmarkReader(b *testing.B) {
	in := streamtest.BenchStream(b, golden.Corpus, 32<<20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Read(bytes.NewReader(in), "bench", quiet{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
