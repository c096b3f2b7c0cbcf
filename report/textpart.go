package report

import (
	"fmt"
	"strings"

	"github.com/saltmail/saltmail/filter"
)

// Text renders the plain-text part: a header line, each minion with
// something to report in Salt's own highstate layout, and one line
// naming the minions with nothing to report. limit bounds the part
// (0: no bound): state blocks are cut, and minions that do not fit are
// named instead of shown (see fit); partial says either happened.
func Text(v *filter.Verdict, limit int) (text string, partial bool) {
	var b strings.Builder
	b.WriteString(headline(v) + "\n")
	for _, e := range v.SaltErrors {
		b.WriteString("\nSalt said instead of returns:\n")
		for _, l := range splitLines(e) {
			line(&b, 4, stripEsc(l))
		}
	}
	if v.InputError != "" {
		b.WriteString("\nThe input could not be read to the end; what arrived before the fault is below.\n")
		b.WriteString("  " + stripEsc(v.InputError) + "\n")
	}
	base := newCutter(limit, reportedStates(v))
	f := fit(v, blockBudget(limit, b.Len()), func(m *filter.Minion, hidden, share int) (string, *cutter) {
		var mb strings.Builder
		c := base.capped(share)
		mb.WriteString("\n")
		hostBlock(&mb, m, c, 0)
		if hidden > 0 {
			line(&mb, 4, hiddenNote(hidden))
		}
		return mb.String(), c
	})
	for _, i := range ranked(v) {
		b.WriteString(f.blocks[i])
	}
	var unchanged []string
	for i := range v.Results {
		if m := &v.Results[i]; m.Status == filter.OK {
			unchanged = append(unchanged, m.ID)
		}
	}
	if l := omittedLine(f.omitted); l != "" {
		b.WriteString("\n" + l + "\n")
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(&b, "\nUnchanged: %s: %s\n", plural(len(unchanged), "minion"), names(unchanged))
	}
	if len(v.Repeated) > 0 {
		fmt.Fprintf(&b, "\nReported already, not repeated: %s: %s\n", plural(len(v.Repeated), "minion"), names(v.Repeated))
	}
	return b.String(), f.partial
}

// blockBudget is what a part of limit bytes leaves for minion blocks
// after used bytes and room for its closing lines (at most maxNames
// names each).
func blockBudget(limit, used int) int {
	if limit <= 0 {
		return 0
	}
	return max(limit-used-96<<10, 1)
}

func reportedStates(v *filter.Verdict) int {
	n := 0
	for i := range v.Results {
		n += len(v.Results[i].States)
	}
	return n
}

// headline says in one line what the whole mail is about.
func headline(v *filter.Verdict) string {
	if len(v.SaltErrors) > 0 && v.Minions == 0 {
		return "Salt: the job did not run or reached no minion"
	}
	s := fmt.Sprintf("Salt: %d failed, %d changed, %d pending on %s", v.Failed, v.Changed, v.Pending, plural(v.Minions, "minion"))
	if e := errorKinds(v); e != "" {
		s += " (" + e + ")"
	}
	if jid, fun := jobOf(v); jid != "" {
		s += ", job " + strings.TrimSpace(fun+" "+jid)
	}
	return strings.TrimSpace(stripEsc(s))
}

// jobOf returns the job id and function when every result shares them.
func jobOf(v *filter.Verdict) (jid, fun string) {
	for i, m := range v.Results {
		if i == 0 {
			jid, fun = m.JID, m.Fun
			continue
		}
		if m.JID != jid {
			jid = ""
		}
		if m.Fun != fun {
			fun = ""
		}
	}
	return jid, fun
}
