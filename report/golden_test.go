package report

import (
	"bytes"
	"flag"
	"github.com/saltmail/saltmail/filter"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func corpusCaptures(t *testing.T) []string {
	var files []string
	for _, pat := range []string{"*/*.out", "reactor/*.jsonl"} {
		m, _ := filepath.Glob(filepath.Join("..", "testdata", "corpus", pat))
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("only %d captures", len(files))
	}
	return files
}

// TestGoldenParts pins the text and HTML part of every capture that is
// news (`go test ./report -update` rewrites them; review by eye).
func TestGoldenParts(t *testing.T) {
	n := 0
	for _, path := range corpusCaptures(t) {
		v := evalCapture(t, path)
		if !Reportable(v, filter.AllOutcomes) {
			continue
		}
		n++
		rel, _ := filepath.Rel(filepath.Join("..", "testdata", "corpus"), path)
		text, _ := Text(v, DefaultPartLimit)
		html, err := HTML(v, DefaultPartLimit)
		if err != nil {
			t.Fatal(err)
		}
		for ext, got := range map[string]string{".txt": text, ".html": html} {
			golden := filepath.Join("..", "testdata", "golden", "mail", rel+ext)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./report -update)", err)
			}
			if !bytes.Equal(want, []byte(got)) {
				t.Errorf("%s differs from its golden file", golden)
			}
		}
		if strings.Contains(html, "ZgotmplZ") {
			t.Errorf("%s: html/template rejected a value", rel)
		}
	}
	if n < 80 {
		t.Errorf("only %d captures are news", n)
	}
}
