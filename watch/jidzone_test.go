package watch

import (
	"testing"
	"time"
)

// A /new's _stamp (UTC) tells whether its jid is written in UTC
// (utc_jid: True) or in the master's local zone.
func TestJIDZone(t *testing.T) {
	plus2 := time.FixedZone("CEST", 2*3600)
	cases := []struct {
		name       string
		local      *time.Location
		jid, stamp string
		utc, known bool
	}{
		{"utc_jid on a master at UTC+2 (3007: a naive stamp)", plus2, "20261130154138727589", "2026-11-30T15:41:38.729223", true, true},
		{"local jids at UTC+2 (3008: +00:00)", plus2, "20261130174138727589", "2026-11-30T15:41:38.729223+00:00", false, true},
		{"a master in UTC: both match, nothing learnt", time.UTC, "20261130154138727589", "2026-11-30T15:41:38.729223+00:00", false, false},
		{"a stamp far from the jid: nothing learnt", plus2, "20261130154138727589", "2026-11-30T09:00:00.000000", false, false},
		{"no stamp", plus2, "20261130154138727589", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts()
			o.Local = c.local
			tr := NewTracker(o)
			tr.Handle(ev("salt/job/"+c.jid+"/new", `{"fun": "test.ping", "minions": ["m1"], "_stamp": "`+c.stamp+`"}`), t0)
			utc, known := tr.JIDZone()
			if utc != c.utc || known != c.known {
				t.Errorf("utc %v known %v, want %v %v", utc, known, c.utc, c.known)
			}
			want := c.local
			if c.utc {
				want = time.UTC
			}
			if tr.JIDLocation() != want {
				t.Errorf("jids read in %v, want %v", tr.JIDLocation(), want)
			}
		})
	}
}
