package cmd

import (
	"fmt"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
)

// news leaves out of the verdict what was reported already, remembers
// what is reported now (unless only previewing), and renders the mails:
// the report, and one saying which failures are resolved. The memory is
// read once: under the minions' locks, or (a preview) without them.
func (r *resolved) news(v *filter.Verdict, now time.Time, preview bool, warn func(string)) ([]outgoing, error) {
	var resolvedStates []filter.Resolved
	switch {
	case r.memory == nil:
	case preview:
		v, resolvedStates, _ = filter.Suppress(v, r.memory.Recall, now, r.policy)
	default:
		minions := make([]string, 0, len(v.Results))
		for _, m := range v.Results {
			minions = append(minions, m.ID)
		}
		err := r.memory.Update(minions, func(recall func(string) filter.Memory) map[string]filter.Memory {
			var next map[string]filter.Memory
			v, resolvedStates, next = filter.Suppress(v, recall, now, r.policy)
			return next
		})
		if err != nil {
			warn(fmt.Sprintf("state dir: %v; repeats may be mailed again", err))
		}
	}
	msgs, err := r.mail.messages(v, now, r.host)
	if err != nil || len(resolvedStates) == 0 {
		return msgs, err
	}
	m, err := report.BuildResolved(resolvedStates, r.mail.options(now, r.host))
	if err != nil {
		return nil, err
	}
	o, err := r.mail.outgoing(m)
	if err != nil {
		return nil, err
	}
	return append(msgs, o), nil
}
