package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Events fired while the master was down, or while no watch ran, are
// lost: the bus replays nothing. The job cache keeps them (24 h by
// default), so after every start of the event command the watch asks
// it (salt-run jobs.list_jobs, then jobs.lookup_jid <jid> missing=True)
// and hands what it finds to the Tracker here, as the events it missed.

// ListedJob is one job of `salt-run jobs.list_jobs --out=json`:
// {"<jid>": {"Function", "Arguments", "Target", "Target-type", "User",
// "StartTime"}}.
type ListedJob struct {
	JID       string          `json:"-"`
	Function  string          `json:"Function"`
	Arguments json.RawMessage `json:"Arguments"`
}

// ParseListJobs reads list_jobs' output, oldest job first.
func ParseListJobs(out []byte) ([]ListedJob, error) {
	var m map[string]ListedJob
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("jobs.list_jobs: not a map of jobs: %w", err)
	}
	jobs := make([]ListedJob, 0, len(m))
	for jid, j := range m {
		if isJID(jid) {
			j.JID = jid
			jobs = append(jobs, j)
		}
	}
	slices.SortFunc(jobs, func(a, b ListedJob) int { return strings.Compare(a.JID, b.JID) })
	return jobs, nil
}

// didNotReturn is what lookup_jid missing=True says of a targeted
// minion with no return in the cache (salt/runners/jobs.py).
const didNotReturn = "Minion did not return"

// Found is a job of the cache and its lookup_jid missing=True output:
// a map of minion to return, "Minion did not return" for the targeted
// minions that have none yet. Started is the job's start (its jid, a
// time of the master's clock).
type Found struct {
	Job     ListedJob
	Lookup  []byte
	Started time.Time
	Relays  []string // the master's syndics (relays.go)
}

// Timed is an event and the time the journal keeps it under.
type Timed struct {
	Event Event
	At    time.Time
}

// Reconcile hands a job of the cache to the tracker: a job it never
// saw starts at its own start time, with every targeted minion expected
// and the returns the cache holds, so a job younger than job_timeout
// stays in flight and an older one is digested by Due, naming who did
// not return. A job in flight gets the returns it missed. A digested
// job is left alone: what it mailed stands. It returns the events to
// journal, with their times, and the digests now complete.
//
// A digested job is left alone (what it mailed stands), except for the
// minions its digest named as not returned: a return of theirs the
// cache now holds came while no watch listened, and is late.
func (t *Tracker) Reconcile(f Found, now time.Time) ([]Timed, []Digest, error) {
	jid := f.Job.JID
	d, j := t.done[jid], t.jobs[jid]
	if (d != nil && len(d.missing) == 0) || (d == nil && j == nil && !slices.Contains(t.o.Input.StateFuns, f.Job.Function)) {
		return nil, nil, nil
	}
	rets, expected, err := parseLookup(f.Lookup)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs.lookup_jid %s: %w", jid, err)
	}
	switch {
	case d != nil:
		expected = slices.DeleteFunc(expected, func(m string) bool { return !d.missing[m] })
	case j != nil: // what it holds is not judged again
		expected = slices.DeleteFunc(expected, func(m string) bool { _, ok := j.returned[m]; return ok })
	}
	var kept []Timed
	var due []Digest
	take := func(ev Event, at time.Time) {
		keep, d := t.Handle(ev, at)
		if keep {
			kept = append(kept, Timed{ev, at})
		}
		due = append(due, d...)
	}
	if d == nil && j == nil {
		data, _ := json.Marshal(map[string]any{"jid": jid, "fun": f.Job.Function, "arg": f.Job.Arguments, "minions": expected})
		take(Event{Tag: "salt/job/" + jid + "/new", Data: data}, f.Started)
	}
	if d == nil {
		for _, ev := range relayTallies(jid, f.Relays, expected, rets) {
			take(ev, now)
		}
	}
	for _, m := range expected {
		if r, ok := rets[m]; ok {
			fun := f.Job.Function
			switch { // a job looked up by jid alone
			case fun == "" && j != nil:
				fun = j.fun
			case fun == "" && len(t.o.Input.StateFuns) > 0:
				fun = t.o.Input.StateFuns[0] // one filter judges as a state run
			case fun == "":
				fun = "state.apply"
			}
			data, _ := json.Marshal(map[string]any{"id": m, "jid": jid, "fun": fun, "fun_args": f.Job.Arguments, "return": r})
			take(Event{Tag: "salt/job/" + jid + "/ret/" + m, Data: data}, now)
		}
	}
	return kept, due, nil
}

// parseLookup reads lookup_jid's output: the returns, and every minion
// it names (targeted, or returned), in its order.
func parseLookup(out []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a map of minions (%.80q)", out)
	}
	rets := map[string]json.RawMessage{}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		m := tok.(string)
		names = append(names, m)
		var s string
		if json.Unmarshal(v, &s) == nil && s == didNotReturn {
			continue // targeted, no return yet: the tracker's deadline judges it
		}
		rets[m] = v
	}
	return rets, names, nil
}

// Known is what the watch knows of jobs, for a reconcile running beside
// it: the jids it digested, those whose digest named minions that have
// not returned since (with them), and the start of the oldest job in
// flight.
type Known struct {
	Done    map[string]bool
	Missing map[string][]string
	Oldest  string // a jid; "" when nothing is in flight
}

// Known snapshots the digested and in-flight jobs.
func (t *Tracker) Known() Known {
	k := Known{Done: make(map[string]bool, len(t.done)), Missing: map[string][]string{}}
	for jid, d := range t.done {
		k.Done[jid] = true
		for m := range d.missing {
			k.Missing[jid] = append(k.Missing[jid], m)
		}
		slices.Sort(k.Missing[jid])
	}
	if jids := t.jidsInOrder(); len(jids) > 0 {
		k.Oldest = jids[0]
	}
	return k
}

// MarkDone records a job digested before a restart (the reconcile
// state keeps them: the journal forgets once nothing is in flight), so
// that no reconcile digests it again, with the minions its digest named
// as not returned.
func (t *Tracker) MarkDone(jid string, at time.Time, missing []string) {
	if t.done[jid] == nil && t.jobs[jid] == nil {
		d := &doneJob{returned: map[string]judged{}, at: at, missing: map[string]bool{}}
		for _, m := range missing {
			d.missing[m] = true
		}
		t.done[jid] = d
	}
}

// IsJID says whether a digest's key is a job's (not a group's, nor an
// expect report's).
func IsJID(key string) bool { return isJID(key) }

// JIDTime is when a job started: its jid, read in loc (the master's
// zone; UTC with utc_jid: True).
func JIDTime(jid string, loc *time.Location) (time.Time, bool) {
	if !isJID(jid) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("20060102150405.000000", jid[:14]+"."+jid[14:], loc)
	return t, err == nil
}
