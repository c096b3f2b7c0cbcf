package report

import (
	"strings"
	"testing"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/internal/golden"
)

func corpusCaptures(t *testing.T) []string { return golden.Captures(t) }

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
		rel := golden.Rel(path)
		text, _ := Text(v, DefaultPartLimit)
		html, err := HTML(v, DefaultPartLimit)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, golden.Path("mail", rel+".txt"), []byte(text))
		golden.Check(t, golden.Path("mail", rel+".html"), []byte(html))
		if strings.Contains(html, "ZgotmplZ") {
			t.Errorf("%s: html/template rejected a value", rel)
		}
	}
	if n < 80 {
		t.Errorf("only %d captures are news", n)
	}
}
