package cmd

import (
	"fmt"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
)

// news leaves out of the verdict what was reported already and renders
// the mails, without recording anything: render's preview. The memory
// is read without its locks.
func (r *resolved) news(v *filter.Verdict, now time.Time, _ bool, _ func(string)) ([]outgoing, error) {
	var resolvedStates []filter.Resolved
	if r.memory != nil {
		v, resolvedStates, _ = filter.Suppress(v, r.memory.Recall, now, r.policy)
	}
	return r.mails(v, resolvedStates, now)
}

// sendNews is the job's end: under the minions' locks it leaves out
// what was reported already, renders the mails, delivers or spools
// each, and only then records what went, so a run killed in the middle
// of delivery has recorded nothing and the next run mails again. A
// minion whose mail went nowhere (not even to the spool) is not
// recorded either. It returns what deliverAll says.
func (r *resolved) sendNews(f *Factory, v *filter.Verdict, now time.Time, verbose bool) outcome {
	send := func(v *filter.Verdict, resolvedStates []filter.Resolved) outcome {
		msgs, err := r.mails(v, resolvedStates, now)
		if err != nil {
			f.warn(err.Error())
		}
		return r.deliverAll(f, msgs, verbose)
	}
	if r.memory == nil {
		return send(v, nil)
	}
	minions := make([]string, 0, len(v.Results))
	for _, m := range v.Results {
		minions = append(minions, m.ID)
	}
	var res outcome
	ran := false
	err := r.memory.Update(minions, func(recall func(string) filter.Memory) map[string]filter.Memory {
		ran = true
		kept, resolvedStates, next := filter.Suppress(v, recall, now, r.policy)
		res = send(kept, resolvedStates)
		for id := range res.lost {
			delete(next, id)
		}
		return next
	})
	if err != nil {
		f.warn(fmt.Sprintf("state dir: %v; repeats may be mailed again", err))
	}
	if !ran { // no lock: mail it all rather than nothing
		res = send(v, nil)
	}
	return res
}

// mails renders the report mails a verdict calls for, and the one that
// says which failures are resolved. A mail that cannot be built (a
// subject template that fails on this verdict) becomes a plain built-in
// mail that says why: the alert is never dropped. The error is only
// what to warn of.
func (r *resolved) mails(v *filter.Verdict, resolvedStates []filter.Resolved, now time.Time) ([]outgoing, error) {
	msgs, err := r.mail.messages(v, now, r.host)
	if len(resolvedStates) == 0 {
		return msgs, err
	}
	m, rerr := report.BuildResolved(resolvedStates, r.mail.options(now, r.host))
	if rerr != nil {
		return msgs, fmt.Errorf("resolved mail: %w", rerr)
	}
	o, rerr := r.mail.outgoing(m)
	if rerr != nil {
		return msgs, fmt.Errorf("resolved mail: %w", rerr)
	}
	for _, s := range resolvedStates {
		o.minions = append(o.minions, s.Minion)
	}
	return append(msgs, o), err
}
