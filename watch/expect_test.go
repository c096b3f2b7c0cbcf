package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/filter"
)

var hourly = Rule{Schedule: "highstate", Every: time.Hour, Grace: 15 * time.Minute, Minions: "web*"}

// step is one thing that happens to an Expect, at t0 + at.
type step struct {
	at    time.Duration
	keys  []string // the accepted keys, read now (nil: not read)
	saw   string   // a minion's scheduled highstate returned now
	other string   // a minion's return of another schedule
}

func TestExpect(t *testing.T) {
	keys := []string{"web1", "web3", "db1"}
	cases := []struct {
		name  string
		steps []step
		until time.Duration
		want  []string // minion@minutes after t0 that each report is made at
	}{
		{"silent from the start: reported once, after every+grace", []step{{at: 0, keys: keys}, {at: 50 * time.Minute, saw: "web1"}, {at: 110 * time.Minute, saw: "web1"}, {at: 170 * time.Minute, saw: "web1"}}, 3 * time.Hour, []string{"web3@75"}},
		{"stopped after a return: counted from it", []step{{at: 0, keys: keys}, {at: 10 * time.Minute, saw: "web1"}, {at: 10 * time.Minute, saw: "web3"}}, 2 * time.Hour, []string{"web1@85", "web3@85"}},
		{"returns again: a new silence is reported anew", []step{{at: 0, keys: []string{"web3"}}, {at: 100 * time.Minute, saw: "web3"}}, 4 * time.Hour, []string{"web3@75", "web3@175"}},
		{"another schedule does not count", []step{{at: 0, keys: []string{"web3"}}, {at: 30 * time.Minute, other: "web3"}}, 2 * time.Hour, []string{"web3@75"}},
		{"a minion the glob does not match has no clock", []step{{at: 0, keys: []string{"db1"}}}, 5 * time.Hour, nil},
		{"keys never read: nothing is reported", []step{{at: 0, saw: "web3"}}, 5 * time.Hour, nil},
		{"a key deleted: no longer expected", []step{{at: 0, keys: keys}, {at: 30 * time.Minute, keys: []string{"web1"}}, {at: 60 * time.Minute, saw: "web1"}}, 3 * time.Hour, []string{"web1@135"}},
		{"a key accepted later: its clock starts then", []step{{at: 0, keys: []string{"db1"}}, {at: 30 * time.Minute, keys: []string{"db1", "web9"}}}, 2 * time.Hour, []string{"web9@105"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runExpect(NewExpect([]Rule{hourly}), c.steps, c.until)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("reports %q, want %q", got, c.want)
			}
		})
	}
}

// runExpect plays the steps, asking what is due at each step and at
// each time Next names, up to until; it returns who was reported when.
func runExpect(x *Expect, steps []step, until time.Duration) []string {
	var out []string
	due := func(now time.Time) {
		for _, o := range x.Due(now) {
			out = append(out, fmt.Sprintf("%s@%d", o.Minion, int(now.Sub(t0).Minutes())))
		}
	}
	next := func(limit time.Time) {
		for n := x.Next(); !n.IsZero() && !n.After(limit); n = x.Next() {
			due(n)
		}
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		next(now)
		if s.keys != nil {
			x.Known(s.keys, now)
		}
		if s.saw != "" {
			x.Saw(s.saw, "highstate", now)
		}
		if s.other != "" {
			x.Saw(s.other, "weekly", now)
		}
		due(now)
	}
	next(t0.Add(until))
	return out
}

// A mail that went nowhere is made again at the retry time, not before.
func TestExpectRetry(t *testing.T) {
	x := NewExpect([]Rule{hourly})
	x.Known([]string{"web3"}, t0)
	due := x.Due(t0.Add(2 * time.Hour))
	if len(due) != 1 {
		t.Fatalf("due: %v", due)
	}
	x.Retry(due[0], t0.Add(3*time.Hour))
	if again := x.Due(t0.Add(150 * time.Minute)); len(again) != 0 {
		t.Errorf("made again before the retry time: %v", again)
	}
	if again := x.Due(t0.Add(3 * time.Hour)); len(again) != 1 || again[0].Key() != due[0].Key() {
		t.Errorf("at the retry time: %v, want %v", again, due)
	}
}

// The report is a minion that did not return, in words a reader and the
// memory both understand.
func TestExpectDigest(t *testing.T) {
	o := Overdue{Minion: "web3", Schedule: "highstate", Rule: hourly, Since: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	v := o.Digest(filter.DefaultOptions()).Verdict
	if len(v.Results) != 1 || v.Results[0].ID != "web3" || v.Results[0].ErrorKind != filter.NoReturn {
		t.Fatalf("verdict: %+v", v.Results)
	}
	if e := v.Results[0].Error; !strings.HasPrefix(e, "No scheduled highstate since 2026-11-30 09:00 UTC:") || !strings.Contains(e, "every 1h0m0s + grace 15m0s") {
		t.Errorf("error: %q", e)
	}
}

// Clocks survive a restart: what was reported stays reported.
func TestExpectSaveLoad(t *testing.T) {
	dir := t.TempDir()
	x := NewExpect([]Rule{hourly})
	x.Known([]string{"web1", "web3"}, t0)
	x.Saw("web1", "highstate", t0.Add(10*time.Minute))
	if got := x.Due(t0.Add(80 * time.Minute)); len(got) != 1 || got[0].Minion != "web3" {
		t.Fatalf("due: %v", got)
	}
	if err := x.SaveExpect(dir); err != nil {
		t.Fatal(err)
	}
	y := NewExpect([]Rule{hourly})
	if err := y.LoadExpect(dir); err != nil {
		t.Fatal(err)
	}
	y.Known([]string{"web1", "web3"}, t0.Add(2*time.Hour)) // known again after the restart
	got := runExpect(y, nil, 3*time.Hour)
	if !reflect.DeepEqual(got, []string{"web1@85"}) {
		t.Errorf("after a restart: %q, want web1's silence only (web3's was reported)", got)
	}
	if st, err := os.Stat(filepath.Join(dir, "expect.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("expect.json: %v %v", st, err)
	}
}

// The scheduled return Salt fires (captured) moves the clock through
// the tracker's hook; salt-key's real listing gives the known minions.
func TestExpectFromCaptures(t *testing.T) {
	for _, v := range []string{"salt-3007.16", "salt-3008.4"} {
		keys, err := os.ReadFile(capture(v + "/watch/salt-key.L.json.out"))
		if err != nil {
			t.Fatal(err)
		}
		ms, err := ParseKeys(keys)
		if err != nil || !reflect.DeepEqual(ms, []string{"minion1", "minion2"}) {
			t.Fatalf("%s: keys %q, %v", v, ms, err)
		}
		x := NewExpect([]Rule{{Schedule: "highstate", Every: time.Minute, Grace: time.Minute, Minions: "*"}})
		x.Known(ms, t0)
		o := opts()
		o.Scheduled = func(m, s string, at time.Time) { x.Saw(m, s, at) }
		line, _ := os.ReadFile(capture(v + "/watch/bus.scheduled.ret.out"))
		ev, ok := ParseLine(line)
		if !ok {
			t.Fatalf("%s: not an event: %q", v, line)
		}
		NewTracker(o).Handle(ev, t0.Add(time.Minute))
		due := x.Due(t0.Add(2 * time.Minute))
		if len(due) != 1 || due[0].Minion != "minion2" {
			t.Errorf("%s: due %v, want minion2 only (minion1 returned its schedule)", v, due)
		}
	}
	if _, err := ParseKeys([]byte(`{"local": ["master.pem"]}`)); err == nil {
		t.Error("a listing with no \"minions\" was taken")
	}
}
