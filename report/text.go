package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/saltmail/saltmail/filter"
	"github.com/tidwall/gjson"
)

// hostBlock writes one minion as Salt's highstate outputter prints it
// with state_output: changes and state_verbose: False (no colour): the
// minion id line, a block per failed, changed or pending state, and the
// Summary. A string return is shown as the nested outputter shows it,
// a list of strings under "Data failed to compile:". depth is how deep
// in JSON the states' changes are (see nested).
func hostBlock(b *strings.Builder, m *filter.Minion, cut *cutter, depth int) {
	b.WriteString(stripEsc(m.ID) + ":\n")
	switch m.ErrorKind {
	case filter.NoReturn, filter.ReturnError:
		if m.Counts.Total == 0 && len(m.States) == 0 {
			errorLines(b, m)
			return
		}
	}
	for i := range m.States {
		stateBlock(b, &m.States[i], cut, depth)
	}
	if m.ErrorKind == filter.JobError {
		line(b, 4, m.Error)
	}
	if m.Repeats > 0 {
		line(b, 4, fmt.Sprintf("(%s reported already, not repeated)", plural(m.Repeats, "state")))
	}
	summary(b, m)
}

// errorLines writes a minion-level error: Salt shows a string return
// through its nested outputter (every line indented 4) and a list of
// strings through the highstate outputter's "Data failed to compile:".
func errorLines(b *strings.Builder, m *filter.Minion) {
	if m.ErrorList == nil {
		for _, l := range splitLines(m.Error) {
			line(b, 4, stripEsc(l))
		}
		if m.Error == filter.Trimmed {
			line(b, 4, "Note: "+trimmedNote)
		}
		return
	}
	b.WriteString("    Data failed to compile:\n")
	for _, e := range m.ErrorList {
		b.WriteString("----------\n    " + stripEsc(e) + "\n")
	}
}

// trimmedNote says what VALUE_TRIMMED means and what to do.
const trimmedNote = "Salt trimmed a value here (VALUE_TRIMMED): it was larger than max_event_size; raise max_event_size on the minions and the master to see it"

// stateBlock writes one state as the highstate outputter's full form,
// cut to the per-state budget.
func stateBlock(out *strings.Builder, s *filter.State, cut *cutter, depth int) {
	b := &strings.Builder{}
	b.WriteString("----------\n")
	line(b, 10, "ID: "+stripEsc(cut.clip(s.ID)))
	line(b, 4, "Function: "+stripEsc(s.Function))
	if s.Name != s.ID {
		line(b, 8, "Name: "+stripEsc(cut.clip(s.Name)))
	}
	line(b, 6, "Result: "+pyResult(s.Result))
	line(b, 5, "Comment: "+stripEsc(strings.ReplaceAll(strings.TrimSpace(s.Comment), "\n", "\n"+strings.Repeat(" ", 14))))
	if s.Started != "" {
		line(b, 5, "Started: "+stripEsc(s.Started))
		line(b, 4, "Duration: "+pyFloat(s.DurationMS)+" ms")
	}
	b.WriteString(changesText(s, depth))
	if s.Trimmed() {
		line(b, 4, "Note: "+trimmedNote)
	}
	if len(s.Warnings) > 0 {
		b.WriteString("    Warnings: " + strings.TrimLeft(wrap(strings.Join(s.Warnings, "\n"), 80, 14), " ") + "\n")
	}
	out.WriteString(cut.apply(b.String()))
}

// changesText is the state's Changes line and what follows it. Salt
// shows changes that are not a dict on the line itself, as "Invalid
// Changes data" (they still count as a change).
func changesText(s *filter.State, depth int) string {
	var b strings.Builder
	b.WriteString("     Changes:   ")
	ch := gjson.ParseBytes(s.Changes)
	switch {
	case !s.HasChanges():
		b.WriteString("\n")
	case !ch.IsObject():
		b.WriteString(stripEsc(invalidChanges(ch)) + "\n")
	case filter.NestedOrchestration(ch).IsObject():
		// A step that ran an orchestration itself: its steps as Salt
		// draws them, nested 14 deep; their minions are reported below.
		b.WriteString(strings.Repeat(" ", 14) + "\n")
		for _, l := range strings.Split(strings.TrimSuffix(nestedOrchestration(ch, depth), "\n"), "\n") {
			line(&b, 14, l)
		}
	case ch.Get("out").String() == "highstate" && ch.Get("ret").IsObject():
		// An orchestration step: its minions are reported below, each
		// under its own id, instead of nested here.
		var ids []string
		ch.Get("ret").ForEach(func(k, _ gjson.Result) bool {
			ids = append(ids, k.String())
			return true
		})
		b.WriteString("\n")
		line(&b, 14, "(state runs on "+stripEsc(strings.Join(ids, ", "))+": reported below under each minion)")
	default:
		b.WriteString("\n")
		nested(&b, ch, 14, "", depth)
	}
	return b.String()
}

// nestedOrchestration renders the orchestration a step ran, each of its
// masters' steps as Salt's highstate outputter does. Its steps' changes
// are orchDepth deeper than the step's (return.data.<master>.<step>).
func nestedOrchestration(ch gjson.Result, depth int) string {
	var b strings.Builder
	if depth+orchDepth > maxDepth {
		line(&b, 0, deepNote)
		return b.String()
	}
	filter.NestedOrchestration(ch).ForEach(func(host, steps gjson.Result) bool {
		doc := `{` + strconv.Quote(host.String()) + `: ` + steps.Raw + `}`
		if v, err := filter.Evaluate(strings.NewReader(doc), "orchestration", filter.DefaultOptions()); err == nil && len(v.Results) == 1 {
			hostBlock(&b, &v.Results[0], &cutter{}, depth+orchDepth)
		}
		return true
	})
	return b.String()
}

const orchDepth = 5

func invalidChanges(ch gjson.Result) string { return "Invalid Changes data: " + pyStr(ch) }

func pyResult(raw []byte) string {
	r := gjson.ParseBytes(raw)
	switch r.Type {
	case gjson.True, gjson.False, gjson.Null:
		return pyConst(r)
	case gjson.String:
		return stripEsc(r.Str)
	}
	return r.Raw
}

// summary writes Salt's "Summary for <minion>" block.
func summary(b *strings.Builder, m *filter.Minion) {
	succeeded := m.Counts.Total - m.Failed
	// Salt sizes the block by its longest label ("Succeeded") and the
	// longest of the counts it has seen (true, false, null, warnings).
	countLen := 0
	for _, c := range []int{succeeded - m.Pending, m.Failed, m.Pending, m.Warned, m.Ignored} {
		if c > 0 {
			countLen = max(countLen, len(strconv.Itoa(c)))
		}
	}
	width := len("Succeeded") + countLen + 2
	dashes := strings.Repeat("-", width)
	fmt.Fprintf(b, "\nSummary for %s\n%s\n", stripEsc(m.ID), dashes)
	var stats []string
	if m.Pending > 0 {
		stats = append(stats, fmt.Sprintf("unchanged=%d", m.Pending))
	}
	if m.WithChanges > 0 {
		stats = append(stats, fmt.Sprintf("changed=%d", m.WithChanges))
	}
	extra := ""
	if len(stats) > 0 {
		extra = " (" + strings.Join(stats, ", ") + ")"
	}
	fmt.Fprintf(b, "Succeeded: %*d%s\n", width-len("Succeeded: "), succeeded, extra)
	fmt.Fprintf(b, "Failed: %*d\n", width-len("Failed: "), m.Failed)
	if m.Warned > 0 {
		fmt.Fprintf(b, "Warnings: %*d\n", width-len("Warnings: "), m.Warned)
	}
	if m.Ignored > 0 {
		// not Salt's: the states saltmail's ignore rules left out
		fmt.Fprintf(b, "Ignored: %*d\n", width-len("Ignored: "), m.Ignored)
	}
	fmt.Fprintf(b, "%s\nTotal states run: %*d\n", dashes, width-7, m.Counts.Total)
	rt, unit := m.RunTimeMS, "ms"
	if rt > 999 {
		rt, unit = rt/1000, "s"
	}
	fmt.Fprintf(b, "Total run time: %*s %s\n", width-5, strconv.FormatFloat(rt, 'f', 3, 64), unit)
}

// wrap fills text like Python's textwrap.fill with an indent on every
// line, as Salt does for a state's warnings.
func wrap(text string, width, indent int) string {
	pad := strings.Repeat(" ", indent)
	var lines []string
	cur := pad
	for _, w := range strings.Fields(text) {
		if cur != pad && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = pad
		}
		if cur != pad {
			cur += " "
		}
		cur += w
	}
	lines = append(lines, cur)
	return strings.Join(lines, "\n")
}
