package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// What `salt --out=json --static -t 10 -L ... saltutil.find_job <jid>`
// printed on a real master of each line (scripts/capture_findjob.py):
// minion1 running the job, minion2 up and done with it, minion3
// stopped, a minion with no key, minion1 once its job was killed.
func TestParseFindJob(t *testing.T) {
	cases := []struct {
		file  string
		asked []string
		want  map[string]FindJob // nil: nothing usable
	}{
		{"find_job.running-done-stopped.json.out", []string{"minion1", "minion2", "minion3"},
			map[string]FindJob{"minion1": StillRunning, "minion2": NotRunning, "minion3": NoAnswer}},
		{"find_job.running-unknown.json.out", []string{"minion1", "nosuchminion"},
			map[string]FindJob{"minion1": StillRunning, "nosuchminion": NoAnswer}},
		{"find_job.stopped.json.out", []string{"minion3"}, map[string]FindJob{"minion3": NoAnswer}},
		{"find_job.killed.json.out", []string{"minion1"}, map[string]FindJob{"minion1": NotRunning}},
		{"find_job.unknown.json.out", []string{"nosuchminion"}, nil},
	}
	for _, v := range []string{"salt-3006.29", "salt-3007.16", "salt-3008.4"} {
		for _, c := range cases {
			t.Run(v+"/"+c.file, func(t *testing.T) {
				out, err := os.ReadFile(filepath.Join("testdata", "findjob", v, c.file))
				if err != nil {
					t.Fatal(err)
				}
				got, err := ParseFindJob(out, c.asked)
				if (err != nil) != (c.want == nil) || !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %v (%v), want %v", got, err, c.want)
				}
			})
		}
	}
}

// Output that says nothing of the minions is an error, not "no answer
// from anyone": the master down (a bare JSON string, captured), or
// nothing printed.
func TestParseFindJobUnusable(t *testing.T) {
	down, err := os.ReadFile(capture("salt-3008.4/salt.state.apply.master-down.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string][]byte{"master down": down, "nothing": nil} {
		if got, err := ParseFindJob(out, []string{"minion1"}); err == nil {
			t.Errorf("%s: %v, want an error", name, got)
		}
	}
}

// The errors a job's digest gives the minions that did not return, as
// find_job answered (nil: not asked, or the command failed).
func TestFindJobDigest(t *testing.T) {
	started := ev("salt/job/"+jid1+"/start/m3", `{"cmd": "_minion_event", "id": "m3"}`)
	cases := []struct {
		name    string
		answers map[string]FindJob
		want    []string // m2's error, then m3's (m3 accepted the job)
	}{
		{"still running, up but not running", map[string]FindJob{"m2": StillRunning, "m3": NotRunning}, []string{
			"Minion did not return. [Still running at job_timeout 1h0m0s: saltutil.find_job found the job]",
			"Minion did not return. [It accepted the job, and was no longer running it at job_timeout 1h0m0s (saltutil.find_job): it ended without a return]"}},
		{"not running, no answer", map[string]FindJob{"m2": NotRunning, "m3": NoAnswer}, []string{
			"Minion did not return. [No response within job_timeout 1h0m0s] [Up, but not running the job (saltutil.find_job): it never received it, or it ended without a return]",
			"Minion did not return. [No response within job_timeout 1h0m0s] [No answer to saltutil.find_job either: down or not connected]"}},
		{"the command failed", nil, []string{
			"Minion did not return. [No response within job_timeout 1h0m0s]",
			"Minion did not return. [It accepted the job and was still running at job_timeout 1h0m0s]"}},
		{"an answer for a minion not asked is not taken", map[string]FindJob{"m1": StillRunning, "m9": StillRunning}, []string{
			"Minion did not return. [No response within job_timeout 1h0m0s]",
			"Minion did not return. [It accepted the job and was still running at job_timeout 1h0m0s]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts()
			o.FindJobWait = 2 * time.Minute
			tr := NewTracker(o)
			if ds := run(tr, []Event{newJob(jid1, "m1", "m2", "m3"), started, ret(jid1, "m1", "")}, t0.Add(time.Hour)); len(ds) != 0 {
				t.Fatalf("digested before the answers: %q", summary(ds))
			}
			asks := tr.Asks()
			if len(asks) != 1 || asks[0].JID != jid1 || strings.Join(asks[0].Minions, ",") != "m2,m3" {
				t.Fatalf("asks %+v, want m2 and m3 of %s", asks, jid1)
			}
			ds := tr.Answer(jid1, c.answers, t0.Add(time.Hour+10*time.Second))
			if len(ds) != 1 || len(ds[0].Verdict.Results) != 3 {
				t.Fatalf("digests %q", summary(ds))
			}
			for i, want := range c.want {
				if got := ds[0].Verdict.Results[i+1].Error; got != want {
					t.Errorf("%s: %q, want %q", ds[0].Verdict.Results[i+1].ID, got, want)
				}
			}
			if again := tr.Answer(jid1, c.answers, t0.Add(2*time.Hour)); again != nil || tr.Next() != (time.Time{}) {
				t.Errorf("answered twice: %q; next %v", summary(again), tr.Next())
			}
		})
	}
}

// The digest of a job held to ask its minions never waits more than
// FindJobWait, and never goes twice.
func TestFindJobWait(t *testing.T) {
	timeout := t0.Add(time.Hour)
	cases := []struct {
		name string
		wait time.Duration
		then func(tr *Tracker) []Digest // after the job's timeout
		want string
	}{
		{"no answers: digested when the wait ends, without them", 2 * time.Minute, func(tr *Tracker) []Digest {
			return append(tr.Due(timeout.Add(2*time.Minute)), tr.Answer(jid1, map[string]FindJob{"m2": StillRunning}, timeout.Add(3*time.Minute))...)
		}, "m1:failed,m2:noreturn,m3:noreturn"},
		{"a return during the wait: in the digest", 2 * time.Minute, func(tr *Tracker) []Digest {
			_, due := tr.Handle(ret(jid1, "m2", ""), timeout.Add(time.Second))
			return append(due, tr.Answer(jid1, map[string]FindJob{"m2": StillRunning, "m3": NoAnswer}, timeout.Add(20*time.Second))...)
		}, "m1:failed,m2:failed,m3:noreturn"},
		{"all return during the wait: digested once settled, the answers not needed", 2 * time.Minute, func(tr *Tracker) []Digest {
			tr.Handle(ret(jid1, "m2", ""), timeout.Add(time.Second))
			tr.Handle(ret(jid1, "m3", ""), timeout.Add(2*time.Second))
			due := tr.Due(tr.Next())
			return append(due, tr.Answer(jid1, map[string]FindJob{"m2": StillRunning}, timeout.Add(20*time.Second))...)
		}, "m1:failed,m2:failed,m3:failed"},
		{"no wait: digested at job_timeout, no one asked", 0, func(tr *Tracker) []Digest { return nil }, "m1:failed,m2:noreturn,m3:noreturn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts()
			o.FindJobWait = c.wait
			tr := NewTracker(o)
			ds := run(tr, []Event{newJob(jid1, "m1", "m2", "m3"), ret(jid1, "m1", "")}, timeout)
			if asks := tr.Asks(); (len(asks) == 1) != (c.wait > 0) || len(tr.Asks()) != 0 {
				t.Fatalf("asks %+v with wait %v (or asked twice)", asks, c.wait)
			}
			ds = append(ds, c.then(tr)...)
			if got := strings.Join(summary(ds), " | "); got != c.want {
				t.Errorf("digests %q, want %q", got, c.want)
			}
			if !tr.Idle() {
				t.Errorf("still in flight: %s", tr)
			}
		})
	}
}

// The salt that asks is the setting's, but a bare "salt" is the one
// beside the event command's salt-run, asking the same master.
func TestFindJobCommand(t *testing.T) {
	def := []string{"salt", "--out=json", "--static", "-t", "10", "-L"}
	cases := []struct {
		name           string
		event, setting []string
		want           []string
	}{
		{"the default salt-run: salt as it is", []string{"salt-run", "state.event", "pretty=False"}, def, def},
		{"a salt-run of a venv, -c: its salt, -c", []string{"/opt/salt/bin/salt-run", "-c", "/srv/conf", "state.event"}, def,
			[]string{"/opt/salt/bin/salt", "-c", "/srv/conf", "--out=json", "--static", "-t", "10", "-L"}},
		{"--config-dir=", []string{"/opt/salt/bin/salt-run", "--config-dir=/srv/conf", "state.event"}, def,
			[]string{"/opt/salt/bin/salt", "--config-dir=/srv/conf", "--out=json", "--static", "-t", "10", "-L"}},
		{"the setting's own -c wins", []string{"/opt/salt/bin/salt-run", "-c", "/srv/conf", "state.event"}, []string{"salt", "-c", "/etc/other", "-L"},
			[]string{"/opt/salt/bin/salt", "-c", "/etc/other", "-L"}},
		{"a salt with a path: as it is", []string{"/opt/salt/bin/salt-run", "-c", "/srv/conf"}, []string{"/usr/bin/salt", "-L"}, []string{"/usr/bin/salt", "-L"}},
		{"an event command that is no salt-run: as it is", []string{"sh", "-c", "cat bus"}, def, def},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := FindJobCommand(c.event, c.setting); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// A watch restarted while it asked (or after a job's timeout passed
// while it was down) asks again once the replayed job is due, and the
// answers make its digest.
func TestFindJobAfterReplay(t *testing.T) {
	dir := t.TempDir()
	var journal strings.Builder
	for i, e := range []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")} {
		fmt.Fprintf(&journal, "%d\t%s\t%s\n", t0.Add(time.Duration(i)*time.Second).UnixNano(), e.Tag, e.Data)
	}
	if err := os.WriteFile(filepath.Join(dir, "journal"), []byte(journal.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.FindJobWait = time.Minute
	tr := NewTracker(o)
	j, pending, err := OpenJournal(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	now := t0.Add(3 * time.Hour)
	if due := tr.Due(now); len(pending) != 0 || len(due) != 0 {
		t.Fatalf("digested before asking: %q %q", summary(pending), summary(due))
	}
	asks := tr.Asks()
	if len(asks) != 1 || strings.Join(asks[0].Minions, ",") != "m2" {
		t.Fatalf("asks %+v", asks)
	}
	ds := tr.Answer(jid1, map[string]FindJob{"m2": NoAnswer}, now.Add(20*time.Second))
	if len(ds) != 1 || !strings.Contains(ds[0].Verdict.Results[1].Error, "No answer to saltutil.find_job") {
		t.Errorf("digests %q", summary(ds))
	}
}
