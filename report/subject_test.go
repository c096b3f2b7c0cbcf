package report

import (
	"strings"
	"testing"
	"text/template"
)

// A template that parses but fails on some verdict is refused when it
// is loaded, naming the verdict it failed on: not later, with an alert
// waiting for it.
func TestSubjectCheckedOnSamples(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{`{{.Nope}}`, "can't evaluate field Nope"},
		{`[salt] {{slice .JID 0 8}}`, "a digest of several jobs"},
		{`{{index .Summary 99}}`, "index out of range"},
	} {
		if _, err := ParseSubject(c.tmpl); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.tmpl, err, c.want)
		}
	}
	for _, ok := range []string{"", `{{if .JID}}{{slice .JID 0 8}}{{end}} {{.Summary}}`, `{{.Status}}: {{.Job}}`} {
		if _, err := ParseSubject(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

// A template's output is bounded while it runs, not after: the cap
// applies to what it wrote so far.
func TestSubjectOutputBounded(t *testing.T) {
	st, err := ParseSubject(strings.Repeat(`{{.Summary}}`, 5000))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Subject(st, verdictOf(t, `{"web1": {"cmd_|-a_|-b_|-run": {"result": false, "changes": {}, "comment": "x", "__run_num__": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(got)); n > maxSubject+1 || !strings.HasPrefix(got, "1 failed1 failed") {
		t.Errorf("%d characters: %.80q", n, got)
	}
}

// When the report mail cannot be built, the plain one says why and
// still carries the report's text.
func TestBuildFallback(t *testing.T) {
	v := verdictOf(t, `{"web1": {"cmd_|-deploy_|-/bin/false_|-run": {"result": false, "changes": {}, "comment": "Command \"/bin/false\" run", "__run_num__": 0}}}`)
	st := template.Must(template.New("s").Option("missingkey=error").Parse(`{{.Nope}}`))
	o := opts(t)
	o.Subject = st
	_, err := Build(v, o)
	if err == nil {
		t.Fatal("the unchecked template did not fail")
	}
	m, err := BuildFallback(v, err, o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Subject: [salt] web1: 1 failed", "could not build its usual report mail", "can't evaluate field Nope", "ID: deploy"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}

// A template must run in time and memory linear in its size: loops,
// recursion and huge printf widths are refused when it is loaded.
func TestSubjectLinear(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{`{{range 3000000000}}{{end}}[salt] {{.Summary}}`, "{{range}} is not allowed"},
		{`{{if .Minion}}{{range 3}}x{{end}}{{end}}`, "{{range}} is not allowed"},
		{`{{define "x"}}{{template "x"}}{{end}}{{template "x"}}`, "not allowed"},
		{`{{$x := printf "%0*d" 1000000 0}}{{.Summary}}`, "(*) is not allowed"},
		{`{{printf "%01000000d" 0}}`, "over 999"},
	} {
		if _, err := ParseSubject(c.tmpl); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.tmpl, err, c.want)
		}
	}
	for _, ok := range []string{`{{printf "%.8s" .JID}} {{.Summary}}`, `{{printf "%-10s|%3d" .Status .Failed}}`, `{{with .Minion}}{{.}}{{else}}many{{end}}`} {
		if _, err := ParseSubject(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}
