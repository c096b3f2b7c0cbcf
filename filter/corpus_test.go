package filter

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/internal/golden"
)

// corpusFiles lists every capture of real Salt output under testdata.
func corpusFiles(t testing.TB) []string { return golden.Captures(t) }

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
		rel := golden.Rel(path)
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
			golden.Check(t, golden.Path("verdict", rel+".json"), got)
		})
	}
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
				if m.ID == host && !used[i] {
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
				{"succeeded", n(s[2]), m.Counts.Total - m.Failed},
				{"unchanged (pending)", n(s[3]), m.Pending},
				{"changed", n(s[4]), m.WithChanges},
				{"failed", n(s[5]), m.Failed},
				{"warnings", n(s[6]), m.Warned},
				{"total", n(s[7]), m.Counts.Total},
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
