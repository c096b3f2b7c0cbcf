package watch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/filter"
)

var t0 = time.Date(2026, 11, 30, 15, 41, 0, 0, time.UTC)

func opts() Options {
	return Options{JobTimeout: time.Hour, GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, Settle: 5 * time.Second, Remember: 24 * time.Hour, Input: filter.DefaultOptions()}
}

// tagged gives the data lines of a capture made with state.event (which
// printed data only) the tags Salt fired them under.
func tagged(t *testing.T, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var h struct {
			JID, ID, Cmd, Tag, Driver string
			Minions                   []string
			Ret                       *string
		}
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatal(err)
		}
		tag := ""
		switch {
		case h.Tag != "":
			tag = h.Tag
		case h.Cmd == "_return":
			tag = "salt/job/" + h.JID + "/ret/" + h.ID
		case h.Driver != "":
			tag = "salt/batch/" + h.JID + "/progress"
		case h.Minions != nil:
			tag = "salt/job/" + h.JID + "/new"
		case h.Ret != nil:
			tag = "salt/job/" + h.JID + "/publish"
		}
		out = append(out, Event{Tag: tag, Data: append([]byte(nil), sc.Bytes()...)})
	}
	return out
}

func capture(rel string) string { return filepath.Join("..", "testdata", "corpus", rel) }

// ev builds an event from a tag and data written in the test.
func ev(tag, data string) Event { return Event{Tag: tag, Data: []byte(data)} }

func ret(jid, id, extra string) Event {
	return ev("salt/job/"+jid+"/ret/"+id, fmt.Sprintf(`{"cmd": "_return", "fun": "state.apply", "id": %q, "jid": %q, "retcode": 2, %s"return": {"cmd_|-a_|-false_|-run": {"result": false, "changes": {}, "comment": "failed on %s", "__run_num__": 0}}}`, id, jid, extra, id))
}

func newJob(jid string, minions ...string) Event {
	b, _ := json.Marshal(minions)
	return ev("salt/job/"+jid+"/new", fmt.Sprintf(`{"fun": "state.apply", "jid": %q, "minions": %s, "arg": []}`, jid, b))
}

// run feeds events one second apart, then asks what is due up to end.
func run(tr *Tracker, evs []Event, end time.Time) []Digest {
	var out []Digest
	now := t0
	for _, e := range evs {
		out = append(out, tr.Due(now)...)
		_, due := tr.Handle(e, now)
		out = append(out, due...)
		now = now.Add(time.Second)
	}
	for !tr.Next().IsZero() && !tr.Next().After(end) {
		out = append(out, tr.Due(tr.Next())...)
	}
	return out
}

// summary is a digest in a few words: its minions and what each had.
func summary(ds []Digest) []string {
	var out []string
	for _, d := range ds {
		var ms []string
		for _, m := range d.Verdict.Results {
			s := m.ID
			switch {
			case m.ErrorKind == filter.NoReturn:
				s += ":noreturn"
			case m.Failed > 0:
				s += ":failed"
			}
			ms = append(ms, s)
		}
		out = append(out, strings.Join(ms, ","))
	}
	return out
}

const jid1, jid2 = "20261130154129421938", "20261130154139028308"

func TestTracker(t *testing.T) {
	cases := []struct {
		name string
		evs  []Event
		end  time.Time
		want []string
	}{
		{"all return: one digest", []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", ""), ret(jid1, "m2", "")}, t0.Add(time.Minute), []string{"m1:failed,m2:failed"}},
		{"one never returns: named at the deadline", []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")}, t0.Add(2 * time.Hour), []string{"m1:failed,m2:noreturn"}},
		{"nothing before the deadline", []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")}, t0.Add(30 * time.Minute), nil},
		{"a duplicate return counts once", []Event{newJob(jid1, "m1"), ret(jid1, "m1", ""), ret(jid1, "m1", "")}, t0.Add(time.Minute), []string{"m1:failed"}},
		{"test.ping is no state job", []Event{ev("salt/job/"+jid1+"/new", `{"fun": "test.ping", "minions": ["m1"]}`), ev("salt/job/"+jid1+"/ret/m1", `{"fun": "test.ping", "id": "m1", "jid": "`+jid1+`", "return": true}`)}, t0.Add(time.Hour), nil},
		{"a cluster peer's copy is ignored", []Event{newJob(jid1, "m1"), ret(jid1, "m1", `"__peer_id": "master2", `)}, t0.Add(30 * time.Minute), nil},
		{"scheduled returns: one group", []Event{ret(jid1, "m1", `"schedule": "highstate", "pid": 11, `), ret(jid2, "m2", `"schedule": "highstate", "pid": 12, `)}, t0.Add(time.Minute), []string{"m1:failed,m2:failed"}},
		{"a scheduled return every master got: once", []Event{ret(jid1, "m1", `"schedule": "highstate", "pid": 11, `), ret(jid2, "m1", `"schedule": "highstate", "pid": 11, `)}, t0.Add(time.Minute), []string{"m1:failed"}},
		{"a syndic is a relay, its minions count", []Event{newJob(jid1, "syn1"), ev("syndic/syn1/"+jid1, `{"minions": ["m1", "m2"]}`), ret(jid1, "m1", ""), ret(jid1, "m2", "")}, t0.Add(time.Minute), []string{"m1:failed,m2:failed"}},
		{"a late return after the digest: a mail of its own, once", []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")}, t0.Add(3 * time.Hour), []string{"m1:failed,m2:noreturn"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := summary(run(NewTracker(opts()), c.evs, c.end))
			if strings.Join(got, " | ") != strings.Join(c.want, " | ") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// A late return goes in a group mail of its own; its duplicate nowhere.
func TestLateReturn(t *testing.T) {
	tr := NewTracker(opts())
	got := run(tr, []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")}, t0.Add(2*time.Hour))
	late := ret(jid1, "m2", "")
	now := t0.Add(2 * time.Hour)
	if keep, _ := tr.Handle(late, now); !keep {
		t.Fatal("the late return was dropped")
	}
	if keep, _ := tr.Handle(late, now); keep {
		t.Error("its duplicate was kept")
	}
	got = append(got, tr.Due(now.Add(time.Minute))...)
	if s := summary(got); strings.Join(s, " | ") != "m1:failed,m2:noreturn | m2:failed" {
		t.Errorf("got %q", s)
	}
}

// A master-side batch (-b 1, Salt 3008.4, captured) announces each
// sub-batch under the one jid: one digest with both minions.
func TestBatchCapture(t *testing.T) {
	got := summary(run(NewTracker(opts()), tagged(t, capture("salt-3008.4/bus.state.apply.batch.out")), t0.Add(time.Hour)))
	if strings.Join(got, " | ") != "minion1:failed,minion2:failed" {
		t.Errorf("got %q", got)
	}
}

// With --start-event (3008), a minion that accepted the job and did not
// return by the deadline is said to be still running.
func TestStartEvent(t *testing.T) {
	evs := []Event{newJob(jid1, "m1", "m2"), ev("salt/job/"+jid1+"/start/m2", `{"cmd": "_minion_event", "id": "m2"}`), ret(jid1, "m1", "")}
	ds := run(NewTracker(opts()), evs, t0.Add(2*time.Hour))
	if len(ds) != 1 || len(ds[0].Verdict.Results) != 2 || !strings.Contains(ds[0].Verdict.Results[1].Error, "accepted the job and was still running") {
		t.Fatalf("got %+v", summary(ds))
	}
}

// What a minion fires itself (event.fire_master: wrapped, cmd
// _minion_event, its own id) cannot stand for another minion's return
// or a syndic's tally; a return whose data names another minion than
// its tag is no return either.
func TestForgedEvents(t *testing.T) {
	forgedRet := ev("salt/job/"+jid1+"/ret/m1", `{"cmd": "_minion_event", "id": "evil", "tag": "salt/job/`+jid1+`/ret/m1", "data": {"id": "m1", "retcode": 0, "return": {}}}`)
	misnamed := ev("salt/job/"+jid1+"/ret/m1", `{"cmd": "_return", "fun": "state.apply", "id": "evil", "jid": "`+jid1+`", "return": {}}`)
	forgedTally := ev("syndic/m2/"+jid1, `{"cmd": "_minion_event", "id": "evil", "minions": []}`)
	otherJobTally := ev("syndic/m2/20200101000000000000", `{"minions": []}`)
	cases := []struct {
		name string
		evs  []Event
		want string
	}{
		{"a forged return does not shadow the real one", []Event{newJob(jid1, "m1"), forgedRet, ret(jid1, "m1", "")}, "m1:failed"},
		{"a return naming another minion is no return", []Event{newJob(jid1, "m1"), misnamed, ret(jid1, "m1", "")}, "m1:failed"},
		{"a forged tally does not drop a minion", []Event{newJob(jid1, "m1", "m2"), forgedTally, ret(jid1, "m1", "")}, "m1:failed,m2:noreturn"},
		{"a relay of another job is not one of this job's", []Event{otherJobTally, newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")}, "m1:failed,m2:noreturn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(summary(run(NewTracker(opts()), c.evs, t0.Add(2*time.Hour))), " | ")
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// A job known as digested (the reconcile state, loaded before the
// journal's replay) takes its replayed returns as mailed: no late mail;
// a return after its digest is late.
func TestDigestedBeforeReplay(t *testing.T) {
	tr := NewTracker(opts())
	tr.MarkDone(jid1, t0.Add(time.Minute), nil)
	if keep, _ := tr.Handle(ret(jid1, "m1", ""), t0); keep {
		t.Error("a return from before the digest was kept")
	}
	if keep, _ := tr.Handle(ret(jid1, "m2", ""), t0.Add(2*time.Minute)); !keep {
		t.Error("a late return was dropped")
	}
}

// A group's returns make their jobs done: a reconcile leaves them alone.
func TestGroupJobsDone(t *testing.T) {
	tr := NewTracker(opts())
	ds := run(tr, []Event{ret(jid1, "m1", `"schedule": "highstate", "pid": 11, `)}, t0.Add(time.Minute))
	if len(ds) != 1 || strings.Join(ds[0].JIDs, ",") != jid1 {
		t.Fatalf("digests %+v", ds)
	}
	if k := tr.Known(); !k.Done[jid1] {
		t.Errorf("the grouped job is not known as digested: %+v", k)
	}
	if keep, _ := tr.Handle(ret(jid1, "m1", `"schedule": "highstate", "pid": 11, `), t0.Add(2*time.Minute)); keep {
		t.Error("the grouped return, seen again, was kept")
	}
}
