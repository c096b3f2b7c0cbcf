package watch

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// The buses and job caches of real Salt topologies, as
// scripts/e2e_topology.py captured them (watch/testdata/topology/README.md):
// a master of masters with a syndic and minions sm1 and sm2 below it,
// and hot-hot masters a and b with minion mm1.
var topoVersions = []string{"3006.29", "3007.16", "3008.4"}

func topoFile(version, name string) string {
	return filepath.Join("testdata", "topology", "salt-"+version, name)
}

// stamped is a captured bus: each event with the time the master
// stamped it.
type stamped struct {
	ev Event
	at time.Time
}

func readBus(t *testing.T, version, name string) []stamped {
	t.Helper()
	f, err := os.Open(topoFile(version, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []stamped
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		ev, ok := ParseLine(sc.Bytes())
		if !ok {
			continue
		}
		s := gjson.GetBytes(ev.Data, "_stamp").String()
		at, err := time.Parse("2006-01-02T15:04:05.999999", strings.TrimSuffix(s, "+00:00"))
		if err != nil {
			t.Fatalf("%s: %q: %v", name, s, err)
		}
		out = append(out, stamped{ev, at})
	}
	return out
}

// topoOpts are the e2e test's: job_timeout 60s, group_wait 5s,
// group_interval 2s.
func topoOpts() Options {
	o := opts()
	o.JobTimeout, o.GroupWait, o.GroupInterval = time.Minute, 5*time.Second, 2*time.Second
	return o
}

// replayBus feeds a bus at its own times and runs out every deadline. It
// leaves out the digests of the e2e test's probe jobs (a /new of
// "watch-probe", fired to see that watch listens).
func replayBus(tr *Tracker, bus []stamped) []Digest {
	var out []Digest
	for _, s := range bus {
		out = append(out, tr.Due(s.at)...)
		_, due := tr.Handle(s.ev, s.at)
		out = append(out, due...)
	}
	for n := tr.Next(); !n.IsZero(); n = tr.Next() {
		out = append(out, tr.Due(n)...)
	}
	return slices.DeleteFunc(out, func(d Digest) bool {
		return len(d.Verdict.Results) == 1 && d.Verdict.Results[0].ID == "watch-probe"
	})
}

// sortedSummary is summary with each digest's minions in order.
func sortedSummary(ds []Digest) []string {
	out := summary(ds)
	for i, s := range out {
		ms := strings.Split(s, ",")
		slices.Sort(ms)
		out[i] = strings.Join(ms, ",")
	}
	return out
}

// On the master of masters the highstate, the clean job of a list
// target, the failing job of the syndic's own master, the scheduled
// highstate below it and the highstate run while the e2e test's watch
// was stopped are one digest each, naming sm1 and sm2 and never the
// syndic. On 3008 the job of the syndic's master comes with the
// syndic's copy of its /new and is a job's digest; before, it is a
// group's.
func TestSyndicBusCaptures(t *testing.T) {
	for _, v := range topoVersions {
		t.Run(v, func(t *testing.T) {
			ds := replayBus(NewTracker(topoOpts()), readBus(t, v, "syndic-mom.bus"))
			want := []string{"sm1:failed,sm2:failed", "sm1,sm2", "sm1:failed,sm2:failed", "sm1:failed,sm2:failed", "sm1:failed,sm2:failed"}
			if got := sortedSummary(ds); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("digests %q, want %q", got, want)
			}
			groups := 0
			for _, d := range ds {
				if !IsJID(d.Key) {
					groups++
				}
			}
			if wantGroups := map[string]int{"3008.4": 1}[v]; wantGroups == 0 && groups != 2 || wantGroups == 1 && groups != 1 {
				t.Errorf("%d group digests (the scheduled run's; and, before 3008, the job of the syndic's master)", groups)
			}
		})
	}
}

// Hot-hot masters: master a hears its own job and the scheduled run,
// never the job published on b. One watcher hearing both buses (merged
// in time order) still mails the scheduled run once: each master gets
// it under a jid of its own, with the same schedule and pid.
func TestTwoMastersBusCaptures(t *testing.T) {
	for _, v := range topoVersions {
		t.Run(v, func(t *testing.T) {
			a, b := readBus(t, v, "two_masters-a.bus"), readBus(t, v, "two_masters-b.bus")
			ds := replayBus(NewTracker(topoOpts()), a)
			if got := summary(ds); strings.Join(got, "|") != "mm1:failed|mm1|mm1:failed" || IsJID(ds[2].Key) {
				t.Errorf("master a: digests %q (keys %v), want its highstate, its clean job, then the scheduled run's group", got, keys(ds))
			}
			both := append(slices.Clone(a), b...)
			slices.SortStableFunc(both, func(x, y stamped) int { return x.at.Compare(y.at) })
			ds = replayBus(NewTracker(topoOpts()), both)
			if got := summary(ds); strings.Join(got, "|") != "mm1:failed|mm1:failed|mm1|mm1:failed" {
				t.Errorf("both buses: digests %q (keys %v), want a's highstate, b's, a's clean job, the scheduled run once", got, keys(ds))
			}
		})
	}
}

func keys(ds []Digest) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Key)
	}
	return out
}

// topoSaltRun is a salt-run that prints the master of masters' captured
// job cache: list_jobs, lookup_jid and cache.list (of master a, a
// master with no syndic, when plain).
func topoSaltRun(t *testing.T, version string, plain bool) string {
	t.Helper()
	abs := func(name string) string {
		p, err := filepath.Abs(topoFile(version, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	syndics := abs("syndic-mom.cache.list.syndics.json.out")
	if plain {
		syndics = abs("two_masters-a.cache.list.syndics.json.out")
	}
	below := lookedUp(t, version, "syndic-mom.jobs.lookup_jid.missing.below.json.out")
	script := "#!/bin/sh\ncase \"$3\" in\njobs.list_jobs) cat " + abs("syndic-mom.jobs.list_jobs.json.out") +
		";;\njobs.lookup_jid) [ \"$4\" = " + below + " ] && { cat " + abs("syndic-mom.jobs.lookup_jid.missing.below.json.out") + "; exit 1; }; cat " +
		abs("syndic-mom.jobs.lookup_jid.missing.json.out") + ";;\ncache.list) cat " + syndics + ";;\n*) exit 1;;\nesac\n"
	bin := filepath.Join(t.TempDir(), "salt-run")
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return bin
}

// lookedUp is the jid whose lookup the capture file holds (INDEX.tsv).
func lookedUp(t *testing.T, version, file string) string {
	t.Helper()
	index, err := os.ReadFile(topoFile(version, "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(index), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[0] == file && f[3] == "jobs.lookup_jid" {
			return f[4]
		}
	}
	t.Fatal("no lookup_jid in INDEX.tsv")
	return ""
}

// A highstate of the master of masters reconciled from its job cache,
// which names the syndic a minion that did not return: the syndic (as
// `cache.list syndics` lists it) is the job's relay, as its tally on the
// bus would have made it. Never seen, or seen by its /new alone (the
// tally missed): one digest, sm1 and sm2, no syndic.
func TestReconcileMasterOfMasters(t *testing.T) {
	for _, v := range topoVersions {
		jid := lookedUp(t, v, "syndic-mom.jobs.lookup_jid.missing.json.out")
		started, _ := JIDTime(jid, time.UTC)
		var newEv Event
		for _, s := range readBus(t, v, "syndic-mom.bus") {
			if s.ev.Tag == "salt/job/"+jid+"/new" {
				newEv = s.ev
			}
		}
		for _, c := range []struct {
			name   string
			plain  bool  // cache.list of a master with no syndic
			before Event // what the tracker heard of the job
			want   string
		}{
			{"never seen", false, Event{}, "sm1:failed,sm2:failed"},
			{"its /new heard, its tally missed", false, newEv, "sm1:failed,sm2:failed"},
			{"no syndic known: the cache's word stands", true, Event{}, "sm1:failed,sm2:failed,syn1:noreturn"},
		} {
			t.Run(v+"/"+c.name, func(t *testing.T) {
				var logged []string
				r := &Reconciler{Run: []string{topoSaltRun(t, v, c.plain), "-c", "/conf"}, Runner: Runner{Timeout: 10 * time.Second, MaxOutput: 1 << 20},
					Loc: time.UTC, Log: func(s string) { logged = append(logged, s) }}
				tr := NewTracker(topoOpts())
				if c.before.Tag != "" {
					tr.Handle(c.before, started)
				}
				var found []Found
				if err := r.Jobs(context.Background(), started, Known{}, func(f Found) { found = append(found, f) }); err != nil || len(found) != 1 {
					t.Fatalf("found %d jobs, %v; logged %q", len(found), err, logged)
				}
				if want := map[bool]string{false: "syn1", true: ""}[c.plain]; strings.Join(found[0].Relays, ",") != want {
					t.Errorf("relays %q, want %q", found[0].Relays, want)
				}
				now := started.Add(20 * time.Second)
				_, due, err := tr.Reconcile(found[0], now)
				if err != nil {
					t.Fatal(err)
				}
				for n := tr.Next(); !n.IsZero(); n = tr.Next() {
					due = append(due, tr.Due(n)...)
				}
				if got := sortedSummary(due); len(got) != 1 || got[0] != c.want {
					t.Errorf("digests %q, want %q", got, c.want)
				}
			})
		}
	}
}

// The master of masters' cache lists the jobs of the syndic's own
// master (and the scheduled runs below it) but cannot look them up:
// jobs.lookup_jid fails, exit status 1. Such a job is said and skipped
// (what it held is not mailed); the other jobs are reconciled.
func TestLookupFailsOnMasterOfMasters(t *testing.T) {
	for _, v := range topoVersions {
		t.Run(v, func(t *testing.T) {
			below := lookedUp(t, v, "syndic-mom.jobs.lookup_jid.missing.below.json.out")
			highstate := lookedUp(t, v, "syndic-mom.jobs.lookup_jid.missing.json.out")
			list, err := os.ReadFile(topoFile(v, "syndic-mom.jobs.list_jobs.json.out"))
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := ParseListJobs(list)
			if err != nil {
				t.Fatal(err)
			}
			// the other jobs were digested while watch ran
			k := Known{Done: map[string]bool{}}
			for _, j := range jobs {
				if j.JID != below && j.JID != highstate {
					k.Done[j.JID] = true
				}
			}
			var logged []string
			r := &Reconciler{Run: []string{topoSaltRun(t, v, false), "-c", "/conf"}, Runner: Runner{Timeout: 10 * time.Second, MaxOutput: 1 << 20},
				Loc: time.UTC, Log: func(s string) { logged = append(logged, s) }}
			from, _ := JIDTime(below, time.UTC)
			var found []Found
			if err := r.Jobs(context.Background(), from, k, func(f Found) { found = append(found, f) }); err != nil {
				t.Fatal(err)
			}
			if len(found) != 1 || found[0].Job.JID != highstate || len(logged) != 1 ||
				!strings.Contains(logged[0], "jobs.lookup_jid "+below) || !strings.Contains(logged[0], "exit status 1") {
				t.Errorf("found %d jobs (want %s only); logged %q", len(found), highstate, logged)
			}
		})
	}
}
