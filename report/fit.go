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
	cut     bool             // a shown state's changes were cut
	partial bool             // something is cut or not shown
}

// render gives a minion's block, and the cutter that bounded its states.
// hidden > 0 says m holds only some of its failed states, and that many
// of its states are left out; share > 0 bounds each state's block.
type render func(m *filter.Minion, hidden, share int) (string, *cutter)

// minRoom is what fit keeps free for each minion with failures still to
// place, so that one huge failure cannot crowd out the others.
const minRoom = 4 << 10

// fit renders reported minions' blocks while they fit in budget bytes
// (budget <= 0: all of them), in the order of ranked. A minion with
// failures too large to show whole shows its failed states, cut to fit
// (see failuresOnly): a failure is not left out for its size alone.
// Once the budget is spent nothing more is rendered, so a huge verdict
// costs no huge string.
func fit(v *filter.Verdict, budget int, r render) fitted {
	f := fitted{blocks: map[int]string{}}
	order := ranked(v)
	failing := 0 // minions with failures not placed yet
	for _, i := range order {
		failing += min(v.Results[i].Failed, 1)
	}
	free := budget // bytes left; unbounded when budget <= 0
	for _, i := range order {
		m := &v.Results[i]
		failing -= min(m.Failed, 1)
		if budget > 0 && free <= 0 {
			f.omitted = append(f.omitted, m)
			continue
		}
		b, c := r(m, 0, 0)
		cut := c.cut
		// Too large with failures: they alone, in what the failing
		// minions still to come leave.
		room := free - min(failing*minRoom, free/2)
		if budget > 0 && len(b) > free && m.Failed > 0 && room >= minRoom {
			var hidden int
			b, cut, hidden = failuresOnly(m, room, r)
			f.partial = f.partial || hidden > 0
		}
		if budget > 0 && len(b) > free {
			f.omitted = append(f.omitted, m)
			continue
		}
		free -= len(b)
		f.blocks[i] = b
		f.cut = f.cut || cut
	}
	f.partial = f.partial || f.cut || len(f.omitted) > 0
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

// minShare is the least a failed state is cut to when its minion is
// too large for the part: its header, its comment, a start of changes.
const minShare = 1 << 10

// failuresOnly renders m's failed states in room bytes, cut to a share
// of it each: smaller shares while the cut binds, down to minShare,
// then fewer states (many small failures). Each try scales by what the
// last one took, aiming a little under room: a few renders in all.
func failuresOnly(m *filter.Minion, room int, r render) (block string, cut bool, hidden int) {
	var failed []filter.State
	for _, s := range m.States {
		if s.Outcome == filter.Failed {
			failed = append(failed, s)
		}
	}
	slim := *m
	k, share := len(failed), max(room, minShare)
	for try := 0; try < 16; try++ {
		slim.States = failed[:k]
		var c *cutter
		block, c = r(&slim, len(m.States)-k, share)
		cut = c.cut
		if len(block) <= room {
			break
		}
		// What a share can still cut: the largest state, up to the share.
		switch bound := min(share, c.largest); {
		case bound > minShare: // cut more (HTML may grow what is kept)
			share = max(bound*(room-room/64)/len(block), minShare)
		case k > 1: // many failures, not large ones
			k = max(min(k-1, k*room/len(block)), 1)
		default: // one failure at its least: the caller decides
			return block, cut, len(m.States) - k
		}
	}
	return block, cut, len(m.States) - k
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
