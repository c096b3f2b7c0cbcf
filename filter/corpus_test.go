package filter

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// corpusFiles lists every capture of real Salt output under testdata.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*/*.out", "reactor/*.jsonl"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", "corpus", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("only %d corpus files found", len(files))
	}
	return files
}

func evalFile(t testing.TB, path string) (*Verdict, error) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	return Evaluate(fh, filepath.Base(path), DefaultOptions())
}

// TestCorpusGolden pins the whole verdict (counts and every failed,
// changed and pending state) of every real capture.
func TestCorpusGolden(t *testing.T) {
	for _, path := range corpusFiles(t) {
		rel, _ := filepath.Rel(filepath.Join("..", "testdata", "corpus"), path)
		t.Run(rel, func(t *testing.T) {
			v, err := evalFile(t, path)
			got, jerr := json.MarshalIndent(v, "", "  ")
			if jerr != nil {
				t.Fatal(jerr)
			}
			got = append(got, '\n')
			if err != nil {
				got = append(got, []byte("error: "+err.Error()+"\n")...)
			}
			golden := filepath.Join("..", "testdata", "golden", "verdict", rel+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./filter -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("verdict differs from %s:\n%s", golden, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
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

// salt's own summary block, as its highstate outputter prints it.
var summaryRE = regexp.MustCompile(`(?m)^Summary for (.+)\n-+\nSucceeded: +(\d+)(?: \((?:unchanged=(\d+))?(?:, )?(?:changed=(\d+))?\))?\nFailed: +(\d+)\n(?:Warnings: +(\d+)\n)?-+\nTotal states run: +(\d+)\nTotal run time: +([\d.]+) (ms|s)$`)

// TestCorpusAgainstSaltSummary checks the counts of every minion against
// the Summary block that Salt's own highstate outputter printed for the
// same JSON (testdata/corpus/reference): an independent witness.
func TestCorpusAgainstSaltSummary(t *testing.T) {
	refs, _ := filepath.Glob(filepath.Join("..", "testdata", "corpus", "reference", "*", "*.changes.txt"))
	if len(refs) < 50 {
		t.Fatalf("only %d reference files", len(refs))
	}
	checked := 0
	for _, ref := range refs {
		dir := filepath.Base(filepath.Dir(ref))
		capture := filepath.Join("..", "testdata", "corpus", dir, strings.TrimSuffix(filepath.Base(ref), ".changes.txt")+".out")
		if _, err := os.Stat(capture); err != nil {
			continue
		}
		if strings.Contains(ref, "jobs.list_job") {
			// Salt's highstate outputter cannot read list_job's wrapper
			// and summarises its keys; there is nothing to compare.
			continue
		}
		refText, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := evalFile(t, capture)
		used := map[int]bool{}
		for _, s := range summaryRE.FindAllStringSubmatch(string(refText), -1) {
			host := s[1]
			idx := -1
			for i, m := range v.Results {
				if m.Minion == host && !used[i] {
					idx = i
					break
				}
			}
			if idx < 0 && s[7] == "0" {
				continue // a return without states (cmd.run_all): Salt prints an empty summary, saltmail ignores it
			}
			if idx < 0 {
				t.Errorf("%s: Salt summarises %s, the verdict has no such minion", ref, host)
				continue
			}
			used[idx] = true
			m := v.Results[idx]
			n := func(x string) int { k, _ := strconv.Atoi(x); return k }
			checks := []struct {
				what      string
				salt, got int
			}{
				{"succeeded", n(s[2]), m.Counts.States - m.Failed},
				{"unchanged (pending)", n(s[3]), m.Pending},
				{"changed", n(s[4]), m.WithChanges},
				{"failed", n(s[5]), m.Failed},
				{"warnings", n(s[6]), m.Warned},
				{"total", n(s[7]), m.Counts.States},
			}
			for _, c := range checks {
				if c.salt != c.got {
					t.Errorf("%s: %s: %s: Salt says %d, verdict %d", ref, host, c.what, c.salt, c.got)
				}
			}
			rt := m.RunTimeMS
			if s[9] == "s" {
				rt /= 1000
			}
			if got := strconv.FormatFloat(rt, 'f', 3, 64); got != s[8] {
				t.Errorf("%s: %s: run time: Salt says %s, verdict %s", ref, host, s[8], got)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d summaries compared", checked)
	}
	t.Logf("%d minion summaries match Salt's own outputter", checked)
}
