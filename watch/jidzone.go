package watch

import (
	"strings"
	"time"
)

// A jid is the master's wall clock when the job was published: local
// time, or UTC with the master's utc_jid: True. The reconcile must read
// jids, and ask jobs.list_jobs, in that zone. Each /new says it: its
// _stamp is the UTC time it was fired, a moment after the jid was made.

// stampSlack is how far a /new's _stamp may be from its jid's time.
const stampSlack = 2 * time.Minute

// learnZone notes which zone a /new's jid is written in, from its
// _stamp; a jid that matches both (the local zone is UTC) or neither (a
// clock stepped) teaches nothing.
func (t *Tracker) learnZone(jid, stamp string) {
	if stamp == "" || t.o.Local == nil {
		return
	}
	// 3006/3007 write it naive, 3008 with +00:00: both are UTC
	s, err := time.Parse("2006-01-02T15:04:05.999999", strings.TrimSuffix(stamp, "+00:00"))
	if err != nil {
		return
	}
	near := func(loc *time.Location) bool {
		j, ok := JIDTime(jid, loc)
		d := j.Sub(s)
		return ok && d < stampSlack && d > -stampSlack
	}
	utc, local := near(time.UTC), near(t.o.Local)
	if utc != local {
		t.jidUTC, t.zoneKnown = utc, true
	}
}

// JIDZone is the zone the master writes its jids in, as the /new events
// showed it: UTC with utc_jid: True, else the local zone; known says
// whether any /new told (a master whose zone is UTC never does, and
// needs not).
func (t *Tracker) JIDZone() (utc, known bool) { return t.jidUTC, t.zoneKnown }

// SetJIDZone restores what an earlier watch learnt (reconcile.json).
func (t *Tracker) SetJIDZone(utc bool) { t.jidUTC, t.zoneKnown = utc, true }

// JIDLocation is the zone to read jids in: local unless learnt UTC.
func (t *Tracker) JIDLocation() *time.Location {
	if t.jidUTC || t.o.Local == nil {
		return time.UTC
	}
	return t.o.Local
}
