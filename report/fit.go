package report

import (
	"fmt"
	"strings"

	"github.com/saltmail/saltmail/filter"
)

// A digest of a big fleet outgrows what mail servers accept (a typical
// 10 MiB) long before any one state is large: thousands of minions with
// a few changes each. A refused mail would be spooled and refused again,
// the alert lost. So each part shows whole minion blocks only while
// they fit its limit, the minions with failures or errors first, and
// names the rest in one bounded line; the attached verdict holds them.

// maxNames bounds the minion names one line of a part lists.
const maxNames = 500

// fitted is what a part shows: the blocks of the minions that fit, by
// index in the verdict's Results, and the reported minions left out.
type fitted struct {
	blocks  map[int]string
	omitted []*filter.Minion // those in error or with failures first
}

// render gives a minion's block. hidden > 0 says m holds only some of
// its failed states, and that many of its states are left out.
type render func(m *filter.Minion, hidden int) string

// fit renders reported minions' blocks while they fit in budget bytes
// (budget <= 0: all of them), in the order of ranked. A minion with failures
// too large to show whole shows as many of its failed states as fit.
// Once the budget is spent nothing more is rendered, so a huge verdict
// costs no huge string.
func fit(v *filter.Verdict, budget int, r render) fitted {
	f := fitted{blocks: map[int]string{}}
	used := 0
	for _, i := range ranked(v) {
		m := &v.Results[i]
		if budget > 0 && used >= budget {
			f.omitted = append(f.omitted, m)
			continue
		}
		b := r(m, 0)
		if budget > 0 && used+len(b) > budget && m.Failed > 0 {
			b = failuresOnly(m, budget-used, r)
		}
		if budget > 0 && used+len(b) > budget {
			f.omitted = append(f.omitted, m)
			continue
		}
		used += len(b)
		f.blocks[i] = b
	}
	return f
}

// ranked lists the reported minions (by index in v.Results) in the
// order a mail shows them: those with failures or errors first, then
// those with changes, then those with pending states only; each group
// in input order.
func ranked(v *filter.Verdict) []int {
	rank := func(m *filter.Minion) int {
		switch {
		case m.Status == filter.Critical:
			return 0
		case m.Changed > 0:
			return 1
		}
		return 2
	}
	var out []int
	for r := 0; r < 3; r++ {
		for i := range v.Results {
			if m := &v.Results[i]; m.Status != filter.OK && rank(m) == r {
				out = append(out, i)
			}
		}
	}
	return out
}

// failuresOnly renders m with as many of its failed states as fit in
// room bytes (at least one), shrinking the count in proportion to what
// each try takes: a few renders, not one per state.
func failuresOnly(m *filter.Minion, room int, r render) string {
	var failed []filter.State
	for _, s := range m.States {
		if s.Outcome == filter.Failed {
			failed = append(failed, s)
		}
	}
	slim := *m
	var b string
	for k := len(failed); k > 0; {
		slim.States = failed[:k]
		b = r(&slim, len(m.States)-k)
		if len(b) <= room || k == 1 {
			break
		}
		k = max(min(k-1, k*room/len(b)), 1)
	}
	return b
}

// hiddenNote says what a minion's block leaves out for size.
func hiddenNote(hidden int) string {
	return fmt.Sprintf("(%s not shown, to keep this mail small enough to deliver; the attached verdict has them)", plural(hidden, "more state"))
}

// omittedLine names the minions left out, with what each has to report.
func omittedLine(ms []*filter.Minion) string {
	if len(ms) == 0 {
		return ""
	}
	names := make([]string, 0, min(len(ms), maxNames))
	for _, m := range ms[:min(len(ms), maxNames)] {
		names = append(names, stripEsc(m.ID)+" ("+minionNews(m)+")")
	}
	return plural(len(ms), "minion") + " not shown, to keep this mail small enough to deliver (the attached verdict has them): " +
		listOf(names, len(ms))
}

// minionNews says in a few words what a minion has to report.
func minionNews(m *filter.Minion) string {
	var parts []string
	if e := errorLabel(m); e != "" {
		parts = append(parts, e)
	}
	for _, c := range []struct {
		n    int
		what string
	}{{m.Failed, "failed"}, {m.Changed, "changed"}, {m.Pending, "pending"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(parts, ", ")
}

// names lists minion ids for one line: at most maxNames of them.
func names(ids []string) string {
	shown := ids[:min(len(ids), maxNames)]
	clean := make([]string, len(shown))
	for i, id := range shown {
		clean[i] = stripEsc(id)
	}
	return listOf(clean, len(ids))
}

func listOf(shown []string, total int) string {
	s := strings.Join(shown, ", ")
	if total > len(shown) {
		s += fmt.Sprintf(" and %d more", total-len(shown))
	}
	return s
}
