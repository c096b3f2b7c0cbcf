package watch

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/saltmail/saltmail/filter"
)

// Rule is a dead-man rule (watch.expect): every known minion whose id
// matches Minions returns the scheduled run named Schedule at least
// every Every, with Grace to spare. Scheduled runs have no /new, so no
// job can say who did not return them: only a clock per minion can.
type Rule struct {
	Schedule     string
	Every, Grace time.Duration
	Minions      string // a shell glob of minion ids
}

// Expect keeps one clock per (rule's schedule, known minion). It is
// pure: the known minions, the returns and time come in as values.
type Expect struct {
	rules  []Rule
	known  map[string]bool // nil until the keys were read once
	clocks map[clockKey]*Clock
}

type clockKey struct{ Minion, Schedule string }

// Clock is what one minion's schedule did: since when it is watched,
// its last scheduled return, and when its silence was reported.
type Clock struct {
	Since    time.Time `json:"since"`
	Last     time.Time `json:"last"`
	Reported time.Time `json:"reported"`
	// NotBefore holds a report whose mail went nowhere back a while,
	// so that a broken transport does not make a busy loop.
	NotBefore time.Time `json:"not_before"`
}

// base is the time silence is counted from: the last return, else the
// start of the watch of this minion.
func (c *Clock) base() time.Time {
	if c.Last.IsZero() {
		return c.Since
	}
	return c.Last
}

// NewExpect watches the rules' schedules; no minion is known yet.
func NewExpect(rules []Rule) *Expect {
	return &Expect{rules: rules, clocks: map[clockKey]*Clock{}}
}

// rule is the first rule of schedule s that matches minion m.
func (x *Expect) rule(m, s string) (Rule, bool) {
	for _, r := range x.rules {
		if ok, _ := path.Match(r.Minions, m); ok && r.Schedule == s {
			return r, true
		}
	}
	return Rule{}, false
}

// Known takes the accepted keys: a minion newly known starts its clocks
// now; one whose key went is no longer expected (a minion taken out of
// service must not be reported for ever).
func (x *Expect) Known(minions []string, now time.Time) {
	x.known = make(map[string]bool, len(minions))
	for _, m := range minions {
		x.known[m] = true
		for _, r := range x.rules {
			k := clockKey{m, r.Schedule}
			if _, ok := x.rule(m, r.Schedule); ok && x.clocks[k] == nil {
				x.clocks[k] = &Clock{Since: now}
			}
		}
	}
	for k := range x.clocks {
		if !x.known[k.Minion] {
			delete(x.clocks, k)
		}
	}
}

// Saw takes a scheduled return of minion m at time at. It says whether
// a clock moved (the state is worth saving). A return older than the
// clock's last (a journal replayed) changes nothing.
func (x *Expect) Saw(m, schedule string, at time.Time) bool {
	if _, ok := x.rule(m, schedule); !ok {
		return false
	}
	k := clockKey{m, schedule}
	c := x.clocks[k]
	if c == nil {
		c = &Clock{Since: at}
		x.clocks[k] = c
	}
	if !at.After(c.Last) {
		return false
	}
	c.Last, c.Reported, c.NotBefore = at, time.Time{}, time.Time{}
	return true
}

// Overdue is one minion's schedule whose silence is to be reported.
type Overdue struct {
	Minion, Schedule string
	Rule             Rule
	Since            time.Time // the last return, or when the watch began
	Never            bool      // no return seen since the watch began
}

// Key names the report: one per silence, so it is never made twice.
func (o Overdue) Key() string {
	return fmt.Sprintf("expect-%s-%s-%d", o.Schedule, o.Minion, o.Since.UnixNano())
}

// due is when a clock's silence is reported; zero when it was, or its
// minion is not known (while the keys are unknown, nothing is).
func (x *Expect) due(k clockKey, c *Clock) time.Time {
	r, ok := x.rule(k.Minion, k.Schedule)
	if !ok || !x.known[k.Minion] || !c.Reported.IsZero() {
		return time.Time{}
	}
	d := c.base().Add(r.Every + r.Grace)
	if d.Before(c.NotBefore) {
		d = c.NotBefore
	}
	return d
}

// Due reports each silence whose time has come at now, once: it is
// marked reported (Retry takes that back when its mail went nowhere).
func (x *Expect) Due(now time.Time) []Overdue {
	var out []Overdue
	for k, c := range x.clocks {
		d := x.due(k, c)
		if d.IsZero() || now.Before(d) {
			continue
		}
		r, _ := x.rule(k.Minion, k.Schedule)
		c.Reported = now
		out = append(out, Overdue{Minion: k.Minion, Schedule: k.Schedule, Rule: r, Since: c.base(), Never: c.Last.IsZero()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Retry takes a report back: its mail was neither delivered nor
// spooled. It is made again at retry.
func (x *Expect) Retry(o Overdue, retry time.Time) {
	if c := x.clocks[clockKey{o.Minion, o.Schedule}]; c != nil && c.base().Equal(o.Since) {
		c.Reported, c.NotBefore = time.Time{}, retry
	}
}

// Next is when a silence is reported next; zero when none waits.
func (x *Expect) Next() time.Time {
	var next time.Time
	for k, c := range x.clocks {
		if d := x.due(k, c); !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next
}

// Digest makes the report of one silence: a verdict holding the minion
// in error, read by filter like any minion that did not return. Its
// text says "did not return", so that the memory (filter.Suppress) says
// "returns again" once a scheduled return of the minion is mailed.
func (o Overdue) Digest(in filter.Options) Digest {
	since := o.Since.UTC().Format("2006-01-02 15:04 UTC")
	why := fmt.Sprintf("No scheduled %s since %s: the minion did not return its scheduled run within every %s + grace %s (watch.expect)",
		o.Schedule, since, o.Rule.Every, o.Rule.Grace)
	if o.Never {
		why = fmt.Sprintf("No scheduled %s since %s, when saltmail watch began to expect it: the minion did not return its scheduled run within every %s + grace %s (watch.expect)",
			o.Schedule, since, o.Rule.Every, o.Rule.Grace)
	}
	// No jid: the silence is of no job, and a made-up one would send
	// the reader to jobs.lookup_jid for nothing.
	data, _ := json.Marshal(map[string]any{"id": o.Minion, "fun": "state.apply", "return": why})
	e := filter.NewEvaluator(in)
	read(e, Event{Tag: "salt/job/" + o.Key() + "/ret/" + o.Minion, Data: data})
	return Digest{Key: o.Key(), Verdict: e.Verdict()}
}

// ParseKeys reads `salt-key -L --out=json`: the accepted keys are
// "minions" (the others, "minions_pre", "minions_rejected" and
// "minions_denied", are no minions of the master's yet or any more).
func ParseKeys(out []byte) ([]string, error) {
	var k struct {
		Minions *[]string `json:"minions"`
	}
	if err := json.Unmarshal(out, &k); err != nil || k.Minions == nil {
		return nil, fmt.Errorf("salt-key: not a listing of keys with \"minions\" (%.80q)", out)
	}
	return *k.Minions, nil
}
