package watch

import (
	"bytes"
	"strings"
	"time"

	"github.com/saltmail/saltmail/filter"
)

// A second return of one (jid, minion) is a duplicate of the first
// unless it is judged worse. Benign copies (a syndic's re-forward, a
// retry, a reconcile that read what the bus gave) judge alike. But Salt
// lets a minion fire any job tag unwrapped (event.send with a preload of
// "events"): nothing tells such an event from the master's own. Were the
// first copy always kept, a forged clean return for another minion, sent
// before the real one, would hide that minion's failure. A worse copy is
// mailed on its own instead: a forger can add noise, never hide a
// failure.

// judged is how a return was judged: the worst is kept per (jid, minion).
type judged = filter.Status

// readJudged reads a return into e and says how its minion was judged:
// the worst of the results it adds under the tag's minion (a return may
// hold several, some under other names, which judge no copy of this
// one); none (unreadable) counts as OK, so that any later copy that
// says more is taken.
func readJudged(e *filter.Evaluator, ev Event) judged {
	n := len(e.Verdict().Results)
	read(e, ev)
	id := ev.Tag[strings.LastIndex(ev.Tag, "/ret/")+len("/ret/"):]
	s := filter.OK
	for _, r := range e.Verdict().Results[n:] {
		if r.ID == id {
			s = max(s, r.Status)
		}
	}
	return s
}

// worse says whether a copy of a return already taken as was is judged
// worse: it is judged alone, so that nothing of it reaches a digest.
func (t *Tracker) worse(ev Event, was judged) (judged, bool) {
	s := readJudged(filter.NewEvaluator(t.o.Input), ev)
	return s, s > was
}

// schedSeen is a scheduled run seen (multi-master dedupe): how judged,
// and when, so that it is forgotten after Options.Remember.
type schedSeen struct {
	s  judged
	at time.Time
}

// read judges one return; a return filter cannot read is its own
// input error in the verdict, which mails it.
func read(e *filter.Evaluator, ev Event) {
	_ = e.Read(bytes.NewReader(ev.Data), ev.Tag)
}
