package filter

import (
	"strconv"
	"strings"
)

// What a verdict says besides its minions (notes, warnings, what Salt
// said instead of returns), and how the verdicts of a stream's segments
// are merged.

// maxNotes bounds the notes a verdict keeps, so a stream of a million
// text lines cannot grow it without end.
const maxNotes = 100

// note and warn keep a line made of parts; past maxNotes they only
// count it, without building it: a flood of test.ping returns or text
// lines costs no string per document.
func (v *Verdict) note(parts ...string) { v.keep(&v.Notes, parts) }

func (v *Verdict) warn(parts ...string) { v.keep(&v.Warnings, parts) }

func (v *Verdict) keep(list *[]string, parts []string) {
	if len(*list) >= maxNotes {
		v.Dropped++
		return
	}
	*list = append(*list, strings.Join(parts, ""))
}

// saltError keeps what Salt said instead of returns (at most maxNotes).
func (v *Verdict) saltError(text string) {
	if len(v.SaltErrors) < maxNotes {
		v.SaltErrors = append(v.SaltErrors, text)
	}
	v.Status = max(v.Status, Critical)
}

// maxTextWarnings is how many skipped text lines of one input are told
// one by one (a help text Salt prints is 40 lines); one more line counts
// the rest.
const maxTextWarnings = 3

// capText leaves of the text lines one input added (those after the
// first warnings and textLines) the first maxTextWarnings, and a count
// of the rest.
func (v *Verdict) capText(warnings, textLines int, name string) {
	lines := v.textLines - textLines
	if lines <= maxTextWarnings {
		return
	}
	added := len(v.Warnings) - warnings
	v.Dropped -= lines - added // those past maxNotes are counted below instead
	v.Warnings = v.Warnings[:warnings+min(added, maxTextWarnings)]
	v.warn(name, ": ", strconv.Itoa(lines-maxTextWarnings), " more lines that are not JSON were skipped")
}

// merge adds o, the verdict on the input that follows v's, as if one
// Evaluator had read both: the notes kept are the first ones of both.
func (v *Verdict) merge(o *Verdict) {
	v.Status = max(v.Status, o.Status)
	v.Minions += o.Minions
	v.Counts.add(o.Counts)
	v.Errors += o.Errors
	v.Results = append(v.Results, o.Results...)
	v.Documents += o.Documents
	for _, e := range o.SaltErrors {
		v.saltError(e)
	}
	if v.InputError == "" {
		v.InputError = o.InputError
	}
	v.Dropped += o.Dropped
	v.textLines += o.textLines
	for _, w := range o.Warnings {
		v.keep(&v.Warnings, []string{w})
	}
	for _, n := range o.Notes {
		v.keep(&v.Notes, []string{n})
	}
	for k, n := range o.byKind {
		v.byKind[k] += n
	}
}
