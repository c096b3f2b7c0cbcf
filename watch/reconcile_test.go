package watch

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cached is the job a real master's cache held (salt --async '*'
// state.apply with minion2 stopped): its listing and its lookup.
func cached(t *testing.T, version string) Found {
	t.Helper()
	list, err := os.ReadFile(capture(version + "/watch/salt-run.jobs.list_jobs.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := ParseListJobs(list)
	if err != nil || len(jobs) != 1 || jobs[0].Function != "state.apply" {
		t.Fatalf("list_jobs: %+v, %v", jobs, err)
	}
	look, err := os.ReadFile(capture(version + "/watch/salt-run.jobs.lookup_jid.missing.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	started, ok := JIDTime(jobs[0].JID, time.UTC)
	if !ok {
		t.Fatalf("jid %q", jobs[0].JID)
	}
	return Found{Job: jobs[0], Lookup: look, Started: started}
}

func TestReconcile(t *testing.T) {
	for _, v := range []string{"salt-3007.16", "salt-3008.4"} {
		f := cached(t, v)
		cases := []struct {
			name   string
			before func(*Tracker) // what the tracker knew
			after  time.Duration  // the reconcile, this long after the job started
			want   []string
		}{
			{"never seen, older than job_timeout: digested, naming who did not return", nil, 2 * time.Hour, []string{"minion1:failed,minion2:noreturn"}},
			{"never seen, still young: in flight, digested at its deadline", nil, time.Minute, []string{"minion1:failed,minion2:noreturn"}},
			{"digested already: left alone", func(tr *Tracker) { tr.MarkDone(f.Job.JID, f.Started, nil) }, 2 * time.Hour, nil},
			{"digested before a restart, naming both: minion1's return in the cache is late", func(tr *Tracker) {
				tr.MarkDone(f.Job.JID, f.Started.Add(time.Hour), []string{"minion1", "minion2"})
			}, 2 * time.Hour, []string{"minion1:failed"}},
			{"digested in this run, naming both: the same", func(tr *Tracker) {
				tr.Handle(newJob(f.Job.JID, "minion1", "minion2"), f.Started)
				if ds := tr.Due(f.Started.Add(time.Hour)); len(ds) != 1 {
					t.Fatalf("the job's digest: %q", summary(ds))
				}
				if k := tr.Known(); strings.Join(k.Missing[f.Job.JID], ",") != "minion1,minion2" {
					t.Fatalf("known missing: %+v", k.Missing)
				}
			}, 2 * time.Hour, []string{"minion1:failed"}},
			{"digested, minion1 returned before: left alone", func(tr *Tracker) {
				tr.MarkDone(f.Job.JID, f.Started.Add(time.Hour), []string{"minion2"})
			}, 2 * time.Hour, nil},
			{"in flight, a return missed: taken, and counted once", func(tr *Tracker) {
				tr.Handle(newJob(f.Job.JID, "minion1", "minion2"), f.Started)
			}, time.Minute, []string{"minion1:failed,minion2:noreturn"}},
		}
		for _, c := range cases {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				tr := NewTracker(opts())
				if c.before != nil {
					c.before(tr)
				}
				now := f.Started.Add(c.after)
				kept, due, err := tr.Reconcile(f, now)
				if err != nil {
					t.Fatal(err)
				}
				due = append(due, tr.Due(now)...)
				if c.after < time.Hour && len(due) != 0 {
					t.Fatalf("a young job digested at once: %q", summary(due))
				}
				for n := tr.Next(); !n.IsZero(); n = tr.Next() {
					due = append(due, tr.Due(n)...)
				}
				if got := summary(due); strings.Join(got, "|") != strings.Join(c.want, "|") {
					t.Errorf("digests %q, want %q", got, c.want)
				}
				if c.want != nil && c.before == nil && (len(kept) != 2 || !kept[0].At.Equal(f.Started)) {
					t.Errorf("journal gets %d events (the /new at the job's start, then the return), first at %v", len(kept), kept[0].At)
				}
				if _, again, _ := tr.Reconcile(f, now.Add(time.Hour)); len(again) != 0 {
					t.Errorf("a second reconcile digested again: %q", summary(again))
				}
			})
		}
	}
}

func TestParseLookupErrors(t *testing.T) {
	tr := NewTracker(opts())
	for _, out := range []string{"", "[]", `"Requested returner could not be loaded."`, `{"m1": }`} {
		f := Found{Job: ListedJob{JID: jid1, Function: "state.apply"}, Lookup: []byte(out), Started: t0}
		if _, _, err := tr.Reconcile(f, t0); err == nil {
			t.Errorf("%q: no error", out)
		}
	}
}

func TestRunnerCommand(t *testing.T) {
	fallback := []string{"salt-run"}
	cases := []struct {
		event, want []string
	}{
		{[]string{"salt-run", "state.event", "(salt/job/|syndic/).*", "pretty=False"}, []string{"salt-run"}},
		{[]string{"/opt/saltstack/salt/salt-run", "-c", "/srv/conf", "state.event", "pretty=False"}, []string{"/opt/saltstack/salt/salt-run", "-c", "/srv/conf"}},
		{[]string{"salt-run", "--config-dir=/c", "state.event"}, []string{"salt-run", "--config-dir=/c"}},
		{[]string{"sh", "-c", "salt-run state.event"}, fallback},
	}
	for _, c := range cases {
		if got := RunnerCommand(c.event, fallback); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q, want %q", c.event, got, c.want)
		}
	}
}

func TestFrom(t *testing.T) {
	mark := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	if got, err := From(mark, Known{}, time.UTC); err != nil || !got.Equal(mark.Add(-time.Minute)) {
		t.Errorf("from the mark: %v %v", got, err)
	}
	if got, err := From(mark, Known{Oldest: "20261130140000000000"}, time.UTC); err != nil || got.Hour() != 14 {
		t.Errorf("from the oldest job in flight: %v %v", got, err)
	}
	if _, err := From(time.Time{}, Known{}, time.UTC); err != ErrNoStart {
		t.Errorf("a first start: %v", err)
	}
}

// fakeSaltRun is a salt-run that records its arguments and prints the
// captured job cache of version.
func fakeSaltRun(t *testing.T, version string) (string, string) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	list, _ := filepath.Abs(capture(version + "/watch/salt-run.jobs.list_jobs.json.out"))
	look, _ := filepath.Abs(capture(version + "/watch/salt-run.jobs.lookup_jid.missing.json.out"))
	syndics, _ := filepath.Abs(topoFile(strings.TrimPrefix(version, "salt-"), "two_masters-a.cache.list.syndics.json.out"))
	script := "#!/bin/sh\necho \"$*\" >> " + args + "\ncase \"$3\" in\njobs.list_jobs) cat " + list + ";;\njobs.lookup_jid) cat " + look +
		";;\ncache.list) cat " + syndics + ";;\n*) echo unknown >&2; exit 1;;\nesac\n"
	bin := filepath.Join(dir, "salt-run")
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return bin, args
}

func TestReconcilerJobs(t *testing.T) {
	bin, args := fakeSaltRun(t, "salt-3008.4")
	r := &Reconciler{Run: []string{bin, "-c", "/conf"}, Runner: Runner{Timeout: 10 * time.Second, MaxOutput: 1 << 20}, Loc: time.UTC, Log: func(s string) { t.Log(s) }}
	from := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	var got []Found
	if err := r.Jobs(context.Background(), from, Known{}, func(f Found) { got = append(got, f) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Job.JID != "20261130170219500522" || !strings.Contains(string(got[0].Lookup), "Minion did not return") {
		t.Fatalf("found %+v", got)
	}
	calls, _ := os.ReadFile(args)
	// the master's syndics are asked once a job is found (relays.go)
	want := "-c /conf jobs.list_jobs search_function=state.* start_time=2026-11-30 17:00:00 --out=json\n-c /conf jobs.lookup_jid 20261130170219500522 missing=True --out=json\n" +
		"-c /conf cache.list syndics --out=json\n"
	if string(calls) != want {
		t.Errorf("salt-run called as\n%s want\n%s", calls, want)
	}
	got = nil
	_ = r.Jobs(context.Background(), from, Known{Done: map[string]bool{"20261130170219500522": true}}, func(f Found) { got = append(got, f) })
	_ = r.Jobs(context.Background(), from.Add(time.Hour), Known{}, func(f Found) { got = append(got, f) })
	if len(got) != 0 {
		t.Errorf("a digested job, or one older than from (Salt without dateutil ignores start_time), was looked up: %+v", got)
	}
	// A digested job whose digest named minions missing is looked up
	// again, listed or not (older than from), the newest first.
	_ = os.Remove(args)
	older := "20261129090000000001"
	missing := Known{Done: map[string]bool{"20261130170219500522": true, older: true},
		Missing: map[string][]string{"20261130170219500522": {"minion2"}, older: {"minion2"}}}
	_ = r.Jobs(context.Background(), from, missing, func(f Found) { got = append(got, f) })
	calls, _ = os.ReadFile(args)
	want = "-c /conf jobs.list_jobs search_function=state.* start_time=2026-11-30 17:00:00 --out=json\n" +
		"-c /conf jobs.lookup_jid 20261130170219500522 missing=True --out=json\n-c /conf cache.list syndics --out=json\n" +
		"-c /conf jobs.lookup_jid " + older + " missing=True --out=json\n"
	if len(got) != 2 || got[0].Job.JID != "20261130170219500522" || got[1].Job.JID != older || string(calls) != want {
		t.Errorf("found %d jobs; salt-run called as\n%s want\n%s", len(got), calls, want)
	}
}

func TestRunnerFails(t *testing.T) {
	r := Runner{Timeout: 300 * time.Millisecond, MaxOutput: 10}
	start := time.Now()
	if _, err := r.Output(context.Background(), []string{"sh", "-c", "sleep 30 & sleep 30"}); err == nil || !strings.Contains(err.Error(), "no answer within") || time.Since(start) > 10*time.Second {
		t.Errorf("a hung command: %v after %v", err, time.Since(start))
	}
	if _, err := r.Output(context.Background(), []string{"sh", "-c", "echo traceback >&2; exit 1"}); err == nil || !strings.Contains(err.Error(), "traceback") {
		t.Errorf("a failed command: %v", err)
	}
	if _, err := r.Output(context.Background(), []string{"sh", "-c", "echo 0123456789abcdef"}); err == nil || !strings.Contains(err.Error(), "more than 10 bytes") {
		t.Errorf("too much output: %v", err)
	}
}

func TestReconcileStateSaveLoad(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadReconcile(dir)
	if err != nil || !s.Mark.IsZero() || len(s.Digested) != 0 {
		t.Fatalf("a first start: %+v %v", s, err)
	}
	s.Mark = t0
	s.Went(jid1, t0)
	s.Went("group-123", t0)
	s.Went(jid2, t0.Add(-48*time.Hour))
	s.Missing = map[string][]string{jid1: {"m2"}, jid2: {"m2"}}
	utc := true
	s.JIDUTC = &utc
	s.Prune(t0, 24*time.Hour)
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadReconcile(dir)
	if err != nil || !back.Mark.Equal(t0) || len(back.Digested) != 1 || back.Digested[jid1].IsZero() || len(back.Missing) != 1 || back.Missing[jid1][0] != "m2" || back.JIDUTC == nil || !*back.JIDUTC {
		t.Errorf("read back %+v %v: want the mark and %s only, with its missing minion", back, err, jid1)
	}
	if err := os.WriteFile(filepath.Join(dir, "reconcile.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadReconcile(dir); err == nil {
		t.Error("a corrupt state was taken")
	}
}

// A job held at its deadline (find_job) is looked up by jid alone: the
// return the bus never showed counts, with the job's own function.
func TestReconcileHeldJobByJID(t *testing.T) {
	f := cached(t, "salt-3008.4")
	o := opts()
	o.FindJobWait = time.Minute
	tr := NewTracker(o)
	tr.Handle(ev("salt/job/"+f.Job.JID+"/new", `{"fun": "state.highstate", "minions": ["minion1", "minion2"]}`), f.Started)
	if ds := tr.Due(f.Started.Add(time.Hour)); len(ds) != 0 || len(tr.Asks()) != 1 {
		t.Fatalf("the job was not held to ask its minions: %q", summary(ds))
	}
	byJID := Found{Job: ListedJob{JID: f.Job.JID}, Lookup: f.Lookup, Started: f.Started}
	now := f.Started.Add(time.Hour + time.Second)
	kept, due, err := tr.Reconcile(byJID, now)
	if err != nil || len(kept) != 1 || !strings.Contains(string(kept[0].Event.Data), `"fun":"state.highstate"`) {
		t.Fatalf("kept %+v, %v", kept, err)
	}
	due = append(due, tr.Answer(f.Job.JID, map[string]FindJob{"minion2": NoAnswer}, now)...)
	if got := strings.Join(summary(due), "|"); got != "minion1:failed,minion2:noreturn" {
		t.Errorf("digests %q", got)
	}
}

// With state_funs that leave out state.apply, a late return found by
// jid alone is still judged as a state run: its failure is mailed.
func TestLateLookupWithOwnStateFuns(t *testing.T) {
	o := opts()
	o.Input.StateFuns = []string{"state.highstate"}
	tr := NewTracker(o)
	tr.Handle(ev("salt/job/"+jid1+"/new", `{"fun": "state.highstate", "jid": "`+jid1+`", "minions": ["m1", "m2"], "arg": []}`), t0)
	if ds := tr.Due(t0.Add(2 * time.Hour)); len(ds) != 1 {
		t.Fatalf("the job's digest: %q", summary(ds))
	}
	look := []byte(`{"m1": "Minion did not return", "m2": {"cmd_|-a_|-false_|-run": {"result": false, "changes": {}, "comment": "failed", "__run_num__": 0}}}`)
	_, due, err := tr.Reconcile(Found{Job: ListedJob{JID: jid1}, Lookup: look}, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for n := tr.Next(); !n.IsZero(); n = tr.Next() {
		due = append(due, tr.Due(n)...)
	}
	if got := strings.Join(summary(due), " | "); got != "m2:failed" {
		t.Errorf("m2's late failure: %q; still looked up: %v", got, tr.Known().Missing)
	}
}
