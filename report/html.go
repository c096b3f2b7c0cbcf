package report

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"strings"

	"github.com/saltmail/saltmail/filter"
	"github.com/tidwall/gjson"
)

//go:embed templates/mail.html templates/parts.html
var templates embed.FS

var htmlTmpl = template.Must(template.ParseFS(templates, "templates/mail.html", "templates/parts.html"))

// Salt's colours, as its highstate outputter uses them.
const (
	red    = "#c62828" // failed, errors
	green  = "#2e7d32" // succeeded
	cyan   = "#00838f" // changed
	yellow = "#9a7b00" // pending (test=True)
)

type htmlView struct {
	Headline   string
	SaltErrors []string
	InputError string
	// Rows and Minions are rendered one by one (parts.html) to fit the
	// part's limit; html/template escaped them then.
	Rows      []template.HTML
	Minions   []template.HTML
	Omitted   string
	Unchanged string
	Repeated  string
	Cut       bool
}

type htmlRow struct {
	Minion                   string
	Failed, Changed, Pending int
	Error                    string
	Color                    string
}

type htmlMinion struct {
	Minion     string
	Color      string
	ErrorTitle string
	Errors     []string
	States     []htmlState
	Repeats    string
	Hidden     string // states left out for size
	Summary    string
}

type htmlState struct {
	Color, Outcome                       string
	ID, Function, Name, Result, Comment  string
	Started, Duration, Warnings, CutNote string
	Trimmed                              string
	Changes                              []htmlLine
}

type htmlLine struct{ Text, Color string }

// HTML renders the HTML part: a summary table, then each reported
// minion's states with their changes, diff lines coloured. Every string
// from Salt goes through html/template, so it is escaped; styles are
// inline because mail clients drop <style> blocks.
func HTML(v *filter.Verdict, limit int) (string, error) {
	view := htmlView{Headline: headline(v), SaltErrors: v.SaltErrors, InputError: v.InputError}
	base := newCutter(limit, reportedStates(v))
	var err error
	// A minion costs its table row and its block: fit measures both,
	// the row first.
	f := fit(v, blockBudget(limit, 4<<10), func(m *filter.Minion, hidden, share int) (string, *cutter) {
		r, e1 := execute("row", rowOf(m))
		c := base.capped(share)
		hm := htmlMinionOf(m, c)
		if hidden > 0 {
			hm.Hidden = hiddenNote(hidden)
		}
		block, e2 := execute("minion", hm)
		if err == nil {
			err = errors.Join(e1, e2)
		}
		return string(r) + string(block), c
	})
	if err != nil {
		return "", err
	}
	var unchanged []string
	for i := range v.Results {
		if m := &v.Results[i]; m.Status == filter.OK {
			unchanged = append(unchanged, m.ID)
		}
	}
	for _, i := range ranked(v) {
		m := &v.Results[i]
		if both, ok := f.blocks[i]; ok {
			r, err := execute("row", rowOf(m)) // the same row again: its length splits both
			if err != nil {
				return "", err
			}
			view.Rows = append(view.Rows, r)
			view.Minions = append(view.Minions, template.HTML(both[len(r):]))
		}
	}
	if len(f.omitted) > 0 {
		var sum htmlRow
		for _, m := range f.omitted {
			sum.Failed += m.Failed
			sum.Changed += m.Changed
			sum.Pending += m.Pending
		}
		sum.Minion, sum.Color = plural(len(f.omitted), "more minion")+" (not shown)", red
		r, err := execute("row", sum)
		if err != nil {
			return "", err
		}
		view.Rows = append(view.Rows, r)
		view.Omitted = omittedLine(f.omitted)
	}
	if len(unchanged) > 0 {
		view.Unchanged = plural(len(unchanged), "minion") + ": " + names(unchanged)
	}
	if len(v.Repeated) > 0 {
		view.Repeated = plural(len(v.Repeated), "minion") + ": " + names(v.Repeated)
	}
	view.Cut = f.cut
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, view); err != nil {
		return "", err
	}
	return b.String(), nil
}

// rowOf is a minion's line in the summary table: its counts alone, so
// it is the same for every rendering of the minion.
func rowOf(m *filter.Minion) htmlRow {
	return htmlRow{
		Minion: m.ID, Failed: m.Failed, Changed: m.Changed, Pending: m.Pending,
		Error: errorLabel(m), Color: minionColor(m),
	}
}

// execute renders one of parts.html's templates.
func execute(name string, data any) (template.HTML, error) {
	var b strings.Builder
	if err := htmlTmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // escaped by html/template
}

func htmlMinionOf(m *filter.Minion, c *cutter) htmlMinion {
	hm := htmlMinion{Minion: m.ID, Color: minionColor(m)}
	switch {
	case m.ErrorList != nil:
		hm.ErrorTitle, hm.Errors = "Data failed to compile:", m.ErrorList
	case m.Error != "":
		hm.Errors = []string{m.Error}
	}
	for i := range m.States {
		hm.States = append(hm.States, htmlStateOf(&m.States[i], c))
	}
	if m.Repeats > 0 {
		hm.Repeats = plural(m.Repeats, "state") + " reported already, not repeated"
	}
	if m.Counts.Total > 0 || m.ErrorKind == filter.NoError {
		var b strings.Builder
		summary(&b, m)
		hm.Summary = strings.TrimSpace(b.String())
	}
	return hm
}

func htmlStateOf(s *filter.State, c *cutter) htmlState {
	hs := htmlState{
		Outcome: s.Outcome.String(), ID: c.clip(s.ID), Function: s.Function, Result: pyResult(s.Result),
		Started: s.Started,
	}
	comment, note := c.split(strings.TrimSpace(s.Comment))
	hs.Comment = comment + strings.TrimSuffix(note, "\n")
	hs.Color = map[filter.Outcome]string{filter.Failed: red, filter.Changed: cyan, filter.Pending: yellow}[s.Outcome]
	if s.Name != s.ID {
		hs.Name = c.clip(s.Name)
	}
	if s.Started != "" {
		hs.Duration = pyFloat(s.DurationMS) + " ms"
	}
	if len(s.Warnings) > 0 {
		hs.Warnings = strings.Join(s.Warnings, "\n")
	}
	if s.Trimmed() {
		hs.Trimmed = trimmedNote
	}
	var b strings.Builder
	if ch := gjson.ParseBytes(s.Changes); s.HasChanges() && filter.NestedOrchestration(ch).IsObject() {
		b.WriteString(nestedOrchestration(ch, 0)) // the orchestration the step ran, as Salt draws it
	} else if s.HasChanges() && ch.IsObject() {
		nested(&b, ch, 0, "", 0)
	} else if s.HasChanges() {
		b.WriteString(invalidChanges(ch) + "\n")
	}
	text, note := c.split(b.String())
	hs.CutNote = strings.TrimSpace(note)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if l != "" || len(hs.Changes) > 0 {
			hs.Changes = append(hs.Changes, htmlLine{Text: l, Color: diffColor(l)})
		}
	}
	return hs
}

// diffColor colours the lines of a unified diff inside changes.
func diffColor(l string) string {
	t := strings.TrimLeft(l, " ")
	switch {
	case strings.HasPrefix(t, "+++") || strings.HasPrefix(t, "---"):
		return ""
	case strings.HasPrefix(t, "+"):
		return green
	case strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "- "):
		return red
	case strings.HasPrefix(t, "@@"):
		return cyan
	}
	return ""
}

func minionColor(m *filter.Minion) string {
	switch {
	case m.Failed > 0 || m.ErrorKind != filter.NoError:
		return red
	case m.Pending > 0:
		return yellow
	case m.Changed > 0:
		return cyan
	}
	return green
}

func errorLabel(m *filter.Minion) string {
	switch m.ErrorKind {
	case filter.NoReturn:
		return "did not return"
	case filter.ReturnError:
		if m.ErrorList != nil {
			return "failed to compile"
		}
		return "error"
	case filter.JobError:
		return "job failed"
	}
	return ""
}
