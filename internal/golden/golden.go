// Package golden is the one golden-file helper of saltmail's tests:
// `go test ./... -update` rewrites the files, and a difference names the
// first line that differs. It also lists the corpus of real Salt
// captures that the golden files are made from.
//
// Only tests import it; it never writes outside testdata.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check compares got with the golden file at path; with -update it
// writes got there instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (go test -update accepts it): %s", path, FirstDiff(string(want), string(got)))
	}
}

// FirstDiff names the first line where got differs from want.
func FirstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		a, b := "(end of file)", "(end of file)"
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want %q\n  got %q", i+1, a, b)
		}
	}
	return "(no line differs)"
}

// Corpus is testdata/corpus relative to a package directory.
var Corpus = filepath.Join("..", "testdata", "corpus")

// Captures lists every capture of Salt output under Corpus: the
// outputs of the salt CLIs (*/*.out) and the reactor's events.
func Captures(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*/*.out", "reactor/*.jsonl"} {
		m, err := filepath.Glob(filepath.Join(Corpus, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("only %d captures under %s", len(files), Corpus)
	}
	return files
}

// Rel is a capture's path relative to Corpus, which names its golden files.
func Rel(capture string) string {
	rel, err := filepath.Rel(Corpus, capture)
	if err != nil {
		return filepath.Base(capture)
	}
	return rel
}

// Path is a golden file under testdata/golden.
func Path(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata", "golden"}, parts...)...)
}

// Seed adds a quarter of the captures (each under 64 KiB) to a fuzz
// target's corpus: enough of Salt's shapes to start from.
func Seed(f *testing.F) {
	f.Helper()
	for i, path := range Captures(f) {
		if i%4 != 0 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 64<<10 {
			f.Add(b)
		}
	}
}
