package report

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/saltmail/saltmail/filter"
)

// DefaultSubject says what matters at a glance:
//
//	[salt] web1: 2 failed, 3 changed (state.apply 20261125101502123456)
//	[salt] 5 minions: 2 failed, 3 changed, 1 did not return
const DefaultSubject = `[salt] {{if eq .Minions 1}}{{.Minion}}{{else}}{{.Minions}} minions{{end}}: {{.Summary}}{{if and (eq .Minions 1) .Job}} ({{.Job}}){{end}}`

// maxSubject caps the subject in characters: gomail folds only at
// spaces, and RFC 5322 forbids lines over 998 bytes.
const maxSubject = 200

// SubjectData is what a --subject template can use.
type SubjectData struct {
	Minions int    // minions with a state return or an error
	Minion  string // the minion when there is one, else ""
	// Failed, Changed and Pending count the states the mail reports as
	// news; Known those it leaves out as reported already.
	Failed, Changed, Pending, Known int
	Errors, NoReturn                int
	States                          int
	Status                          string // ok, warning, critical, unknown
	JID                             string // the job id when every result shares it
	Fun                             string // the job function when every result shares it
	Job                             string // "Fun JID", or what of it is known
	Summary                         string // "2 failed, 3 changed, 1 did not return"
	SaltError                       string // what Salt said instead of returns, if it did
}

// ParseSubject checks a subject template before any mail is made.
func ParseSubject(text string) (*template.Template, error) {
	if text == "" {
		text = DefaultSubject
	}
	t, err := template.New("subject").Option("missingkey=error").Funcs(boundedFuncs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("subject template: %w", err)
	}
	if err := linear(t); err != nil {
		return nil, fmt.Errorf("subject template: %w", err)
	}
	// A template that parses may still fail on some verdict ({{.Nope}},
	// {{slice .JID 0 8}} on a digest of many jobs): find out now, before
	// any input is read, not once an alert is waiting for it.
	for _, v := range sampleVerdicts() {
		if _, err := Subject(t, v); err != nil {
			return nil, fmt.Errorf("%w (on %s)", err, sampleName(v))
		}
	}
	return t, nil
}

// Subject renders the subject for a verdict, with control characters
// removed and its length capped. The template's output is bounded while
// it runs: a {{range}} must not fill the memory before the cap applies.
func Subject(t *template.Template, v *filter.Verdict) (string, error) {
	b := &boundedBuilder{max: 4 * maxSubject * utf8.UTFMax}
	if err := t.Execute(b, subjectData(v)); err != nil && !errors.Is(err, errSubjectFull) {
		return "", fmt.Errorf("subject template: %w", err)
	}
	return clean(b.String(), maxSubject), nil
}

// errSubjectFull stops a template whose output is longer than any
// subject can be: what it wrote so far is enough for the cap.
var errSubjectFull = errors.New("subject full")

type boundedBuilder struct {
	strings.Builder
	max int
}

func (b *boundedBuilder) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.Builder.Write(p[:max(room, 0)])
		return max(room, 0), errSubjectFull
	}
	return b.Builder.Write(p)
}

func subjectData(v *filter.Verdict) SubjectData {
	d := SubjectData{
		Minions: v.Minions, Errors: v.Errors, NoReturn: v.ErrorCount(filter.NoReturn), States: v.Total,
		Status: v.Status.String(),
	}
	for i := range v.Results {
		m := &v.Results[i]
		d.Known += m.Repeats
		for j := range m.States {
			switch m.States[j].Outcome {
			case filter.Failed:
				d.Failed++
			case filter.Changed:
				d.Changed++
			case filter.Pending:
				d.Pending++
			}
		}
	}
	if len(v.Results) == 1 {
		d.Minion = v.Results[0].ID
	}
	d.JID, d.Fun = jobOf(v)
	d.Job = strings.TrimSpace(d.Fun + " " + d.JID)
	var parts []string
	if len(v.SaltErrors) > 0 {
		d.SaltError = clean(v.SaltErrors[0], 120)
		parts = append(parts, d.SaltError)
	}
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(d.Failed, "failed")
	add(d.Changed, "changed")
	add(d.Pending, "pending")
	if d.Minion != "" && v.Errors == 1 {
		parts = append(parts, errorLabel(&v.Results[0]))
	} else {
		add(d.NoReturn, "did not return")
		add(v.ErrorCount(filter.ReturnError), "with errors")
		add(v.ErrorCount(filter.JobError), "failed jobs")
	}
	if v.InputError != "" {
		parts = append(parts, "input unreadable")
	}
	add(d.Known, "already reported")
	if len(parts) == 0 {
		parts = append(parts, "nothing to report")
	}
	d.Summary = strings.Join(parts, ", ")
	return d
}

// clean removes control characters (CR and LF above all: they would
// start a new header) and caps s at max characters.
func clean(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
			r = ' '
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
