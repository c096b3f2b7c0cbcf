package filter

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchStream builds a stream of about size bytes from real one-line
// minion documents of the corpus (mostly clean, some changed, a few
// failed), each under a new minion id.
func benchStream(b *testing.B, size int) []byte {
	b.Helper()
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
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "master", f.name))
		if err != nil {
			b.Fatal(err)
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

// BenchmarkEvaluateStream reads on every core, BenchmarkEvaluateInOrder
// on one; TotalsOnly is what `saltmail check` does.
func BenchmarkEvaluateStream(b *testing.B)           { benchEvaluate(b, 0, false) }
func BenchmarkEvaluateStreamTotalsOnly(b *testing.B) { benchEvaluate(b, 0, true) }
func BenchmarkEvaluateInOrder(b *testing.B)          { benchEvaluate(b, 1, false) }

func benchEvaluate(b *testing.B, procs int, totals bool) {
	in := benchStream(b, 32<<20)
	opts := DefaultOptions()
	opts.TotalsOnly = totals
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := NewEvaluator(opts)
		e.par.procs = procs
		if err := e.Read(bytes.NewReader(in), "bench"); err != nil || e.Verdict().Minions == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	in := benchStream(b, 32<<20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(in), "bench")
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
