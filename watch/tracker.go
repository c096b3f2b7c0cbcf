package watch

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/saltmail/saltmail/filter"
)

// Options say how long to wait for what.
type Options struct {
	// JobTimeout: how long after its /new a job's digest waits for the
	// minions that have not returned.
	JobTimeout time.Duration
	// GroupWait: how long returns with no /new wait for others to go
	// with them; GroupInterval: the least time between two such mails.
	GroupWait, GroupInterval time.Duration
	// Settle: how long a job whose minions have all returned waits for
	// more to be announced under its jid: a master-side batch (-b)
	// announces each sub-batch by a /new of the same jid, and a syndic
	// tallies its minions after the /new (its syndic_wait is 5s).
	Settle time.Duration
	// Remember: how long a digested job's (jid, minion) pairs are kept,
	// so that a duplicate return is not mailed again.
	Remember time.Duration
	// Input: how returns are read (state functions, rules, bounds).
	Input filter.Options
	// Local is the master's local zone, in which it writes its jids
	// unless utc_jid: True (jidzone.go); nil: UTC.
	Local *time.Location
	// Scheduled hears each scheduled return (its minion, its schedule,
	// when it came), whatever its function: the dead-man rules' clock.
	Scheduled func(minion, schedule string, at time.Time)
	// FindJobWait: how long a job past its JobTimeout with minions
	// missing waits for saltutil.find_job's answers (findjob.go); 0:
	// none are asked.
	FindJobWait time.Duration
}

// Digest is what one mail reports: a job's returns with the minions
// that did not return, or a group of returns that had no /new.
type Digest struct {
	Key     string // the journal's name for it: the jid, or "group-<first return's time>"
	Verdict *filter.Verdict
	// JIDs are the jobs a group digest holds returns of, to record as
	// digested (a job's digest is its Key).
	JIDs []string
}

// Tracker follows the jobs of one master's bus. It is pure: events and
// time come in; digests that are due go out. It is not safe for use by
// several goroutines at once.
type Tracker struct {
	o       Options
	jobs    map[string]*job
	done    map[string]*doneJob
	group   *collector           // returns with no /new
	lastOut time.Time            // when the last group digest went
	sched   map[string]schedSeen // minion, schedule, pid: seen (multi-master)
	asks    []Ask                // jobs held to ask their minions (findjob.go)
	// jidUTC: the jids are UTC (utc_jid), once zoneKnown (jidzone.go)
	jidUTC, zoneKnown bool
}

// job is an announced state job in flight.
type job struct {
	jid, fun string
	expected []string // in the order /new (and syndics) named them
	want     map[string]bool
	returned map[string]judged
	started  map[string]bool // accepted the job (3008 --start-event)
	relays   map[string]bool // syndics that relay this job
	missing  int             // expected minions that have not returned
	timeout  time.Time       // its /new + JobTimeout; once held to ask, + FindJobWait
	deadline time.Time       // timeout, or sooner while it settles
	e        *filter.Evaluator
	// answers: saltutil.find_job's, once asked (findjob.go)
	answers map[string]FindJob
}

// doneJob is a digested job: who returned, how judged, and when it
// went; and who its digest named as not returned and has not since (a
// reconcile looks for their returns in the job cache).
type doneJob struct {
	returned map[string]judged
	at       time.Time
	missing  map[string]bool
}

// collector gathers returns with no /new for one window.
type collector struct {
	first time.Time
	e     *filter.Evaluator
	seen  map[string]judged // jid/minion
}

// NewTracker starts with nothing in flight.
func NewTracker(o Options) *Tracker {
	return &Tracker{o: o, jobs: map[string]*job{}, done: map[string]*doneJob{}, sched: map[string]schedSeen{}}
}

// Handle takes one event at time now. It returns what it did, for the
// journal: whether the event matters (keep it), and the digests now
// complete.
func (t *Tracker) Handle(ev Event, now time.Time) (keep bool, due []Digest) {
	ti := parseTag(ev.Tag)
	if ti.kind == other {
		return false, nil
	}
	h, ok := readHeader(ev.Data)
	if !ok || h.PeerID {
		// A master cluster's peer republishes every event with
		// __peer_id: the peer it came from has a watcher of its own.
		return false, nil
	}
	if h.Cmd == "_minion_event" && (ti.kind != jobStart || h.ID != ti.minion) {
		// An event a minion fired (event.fire_master) comes wrapped, its
		// id the minion's own (the master checks it). Salt lets a minion
		// fire any job tag: it could forge another minion's return or a
		// syndic's tally. Only a start event is a minion's own word.
		return false, nil
	}
	switch ti.kind {
	case jobNew:
		return t.announce(ti, h, now)
	case syndicTally:
		return t.tally(ti.jid, ti.syndic, h.Minions, now)
	case jobStart:
		if j := t.jobs[ti.jid]; j != nil {
			j.started[ti.minion] = true
			return true, nil
		}
		return false, nil
	}
	return t.ret(ti, h, ev, now)
}

// announce starts a job from its /new, if it is a state run.
func (t *Tracker) announce(ti tagInfo, h header, now time.Time) (bool, []Digest) {
	t.learnZone(ti.jid, h.Stamp)
	if !slices.Contains(t.o.Input.StateFuns, h.Fun) || t.done[ti.jid] != nil {
		return false, nil
	}
	j := t.jobs[ti.jid]
	if j == nil {
		j = &job{jid: ti.jid, fun: h.Fun, want: map[string]bool{}, returned: map[string]judged{}, started: map[string]bool{}, relays: map[string]bool{},
			timeout: now.Add(t.o.JobTimeout), e: filter.NewEvaluator(t.o.Input)}
		j.deadline = j.timeout
		t.jobs[ti.jid] = j
	}
	return t.tally(ti.jid, ti.syndic, h.Minions, now)
}

// tally adds minions a job expects. A syndic is a relay of that job,
// never one of its minions: it is known as such for this job only, so
// that an event naming another id a relay cannot drop it from other
// jobs.
func (t *Tracker) tally(jid, relay string, minions []string, now time.Time) (bool, []Digest) {
	j := t.jobs[jid]
	if j == nil {
		return false, nil
	}
	if relay != "" && !j.relays[relay] {
		j.relays[relay] = true
		if j.want[relay] {
			delete(j.want, relay)
			j.expected = slices.DeleteFunc(j.expected, func(m string) bool { return m == relay })
			if _, ok := j.returned[relay]; !ok {
				j.missing--
			}
		}
	}
	for _, m := range minions {
		j.expect(m)
	}
	return true, t.complete(j, now)
}

// expect adds a minion the job waits for, unless it is a relay.
func (j *job) expect(m string) {
	if j.want[m] || j.relays[m] {
		return
	}
	j.want[m] = true
	j.expected = append(j.expected, m)
	if _, ok := j.returned[m]; !ok {
		j.missing++
	}
}

// ret takes a minion's return.
func (t *Tracker) ret(ti tagInfo, h header, ev Event, now time.Time) (bool, []Digest) {
	if h.Schedule != "" && t.o.Scheduled != nil {
		t.o.Scheduled(ti.minion, h.Schedule, now)
	}
	if h.ID != ti.minion {
		return false, nil // a return names its minion in its data too
	}
	if d := t.done[ti.jid]; d != nil {
		if was, ok := d.returned[ti.minion]; ok {
			// A copy of what was mailed, unless worse (conflict.go).
			if s, worse := t.worse(ev, was); worse {
				d.returned[ti.minion] = s
				return t.collect(ti, h, ev, now)
			}
			return false, nil
		}
		d.returned[ti.minion] = filter.OK
		delete(d.missing, ti.minion)
		if !now.After(d.at) {
			// A return from before the digest went, replayed after a
			// restart that knew the job as digested: its digest held it.
			return false, nil
		}
		return t.collect(ti, h, ev, now) // late: a mail of its own, in the group
	}
	if j := t.jobs[ti.jid]; j != nil {
		if was, ok := j.returned[ti.minion]; ok {
			if s, worse := t.worse(ev, was); worse {
				j.returned[ti.minion] = s
				return t.collect(ti, h, ev, now)
			}
			return false, nil
		}
		if !j.want[ti.minion] {
			j.expect(ti.minion) // a syndic's minion before its tally
		}
		j.missing--
		j.returned[ti.minion] = readJudged(j.e, ev)
		return true, t.complete(j, now)
	}
	if !slices.Contains(t.o.Input.StateFuns, h.Fun) {
		return false, nil
	}
	if h.Schedule != "" && h.PID != "" {
		// Every master of a multi-master set gets each scheduled return,
		// under a jid of its own: one is enough.
		k := ti.minion + "\x00" + h.Schedule + "\x00" + h.PID
		was, seen := t.sched[k]
		if seen {
			if _, worse := t.worse(ev, was.s); !worse {
				return false, nil
			}
		}
		keep, due := t.collect(ti, h, ev, now)
		if keep {
			t.sched[k] = schedSeen{max(was.s, t.group.seen[ti.jid+"/"+ti.minion]), now}
		}
		return keep, due
	}
	return t.collect(ti, h, ev, now)
}

// collect puts a return in the group window.
func (t *Tracker) collect(ti tagInfo, h header, ev Event, now time.Time) (bool, []Digest) {
	if t.group == nil {
		t.group = &collector{first: now, e: filter.NewEvaluator(t.o.Input), seen: map[string]judged{}}
	}
	k := ti.jid + "/" + ti.minion
	if was, ok := t.group.seen[k]; ok {
		s, worse := t.worse(ev, was)
		if !worse {
			return false, nil
		}
		t.group.seen[k] = s
		read(t.group.e, ev)
		return true, nil
	}
	t.group.seen[k] = readJudged(t.group.e, ev)
	return true, nil
}

// finish makes a job's digest, naming who did not return, and moves
// the job to done.
func (t *Tracker) finish(j *job, now time.Time) Digest {
	missing := map[string]bool{}
	for _, m := range j.expected {
		if _, ok := j.returned[m]; ok {
			continue
		}
		missing[m] = true
		miss, _ := json.Marshal(map[string]any{"id": m, "jid": j.jid, "fun": j.fun, "return": t.noReturn(j, m)})
		read(j.e, Event{Tag: "salt/job/" + j.jid + "/ret/" + m, Data: miss})
	}
	delete(t.jobs, j.jid)
	t.done[j.jid] = &doneJob{returned: j.returned, at: now, missing: missing}
	return Digest{Key: j.jid, Verdict: j.e.Verdict()}
}

// String says what is in flight, for a log line.
func (t *Tracker) String() string {
	g := 0
	if t.group != nil {
		g = len(t.group.seen)
	}
	return fmt.Sprintf("%d jobs in flight, %d grouped returns", len(t.jobs), g)
}
