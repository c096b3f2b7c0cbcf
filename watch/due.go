package watch

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Due returns the digests whose time has come at now: jobs past their
// deadline, and the group once its window closed.
func (t *Tracker) Due(now time.Time) []Digest {
	var out []Digest
	for _, jid := range t.jidsInOrder() {
		if j := t.jobs[jid]; !now.Before(j.deadline) && !t.hold(j, now) {
			out = append(out, t.finish(j, now))
		}
	}
	if g := t.group; g != nil && !now.Before(t.groupDue()) {
		t.group, t.lastOut = nil, now
		out = append(out, Digest{Key: fmt.Sprintf("group-%d", g.first.UnixNano()), Verdict: g.e.Verdict(), JIDs: t.groupDone(g, now)})
	}
	for jid, d := range t.done {
		if now.Sub(d.at) > t.o.Remember {
			delete(t.done, jid)
		}
	}
	for k, seen := range t.sched {
		if now.Sub(seen.at) > t.o.Remember {
			delete(t.sched, k)
		}
	}
	return out
}

// Next is when something is due next; zero when nothing waits.
func (t *Tracker) Next() time.Time {
	var next time.Time
	for _, j := range t.jobs {
		if next.IsZero() || j.deadline.Before(next) {
			next = j.deadline
		}
	}
	if t.group != nil && (next.IsZero() || t.groupDue().Before(next)) {
		next = t.groupDue()
	}
	return next
}

// groupDue: group_wait after the window's first return, and not sooner
// than group_interval after the last group mail.
func (t *Tracker) groupDue() time.Time {
	due := t.group.first.Add(t.o.GroupWait)
	if after := t.lastOut.Add(t.o.GroupInterval); !t.lastOut.IsZero() && after.After(due) {
		due = after
	}
	return due
}

func (t *Tracker) jidsInOrder() []string {
	jids := make([]string, 0, len(t.jobs))
	for jid := range t.jobs {
		jids = append(jids, jid)
	}
	slices.Sort(jids) // jids are times: oldest first
	return jids
}

// Idle: no job in flight and no return waiting in the group.
func (t *Tracker) Idle() bool { return len(t.jobs) == 0 && t.group == nil }

// forget drops what a digest that went (a journal record) held: the
// job becomes done, or the group closes, with no digest made again.
func (t *Tracker) forget(key string, at time.Time) {
	if j := t.jobs[key]; j != nil {
		delete(t.jobs, key)
		t.done[key] = &doneJob{returned: j.returned, at: at}
		return
	}
	if g := t.group; g != nil && key == fmt.Sprintf("group-%d", g.first.UnixNano()) {
		t.group, t.lastOut = nil, at
	}
}

// groupDone records the jobs of a group's returns as done: a return of
// them again is a duplicate, and a reconcile must not digest them.
func (t *Tracker) groupDone(g *collector, now time.Time) []string {
	var jids []string
	for k := range g.seen {
		jid, minion, _ := strings.Cut(k, "/")
		if t.jobs[jid] != nil {
			continue // a worse copy of a job in flight: its own digest records the job
		}
		d := t.done[jid]
		if d == nil {
			d = &doneJob{returned: map[string]judged{}, at: now}
			t.done[jid] = d
			jids = append(jids, jid)
		}
		d.returned[minion] = max(d.returned[minion], g.seen[k])
	}
	slices.Sort(jids)
	return jids
}

// complete notes whether every minion a job expects has returned: then
// it is digested once it has settled, unless more are announced.
func (t *Tracker) complete(j *job, now time.Time) []Digest {
	j.deadline = j.timeout
	if len(j.expected) == 0 || j.missing > 0 {
		return nil
	}
	if t.o.Settle <= 0 {
		return []Digest{t.finish(j, now)}
	}
	j.deadline = minTime(j.timeout, now.Add(t.o.Settle))
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
