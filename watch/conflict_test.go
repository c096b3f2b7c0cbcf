package watch

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// clean is a return with one state that succeeded with no changes, as
// a forger would fire it for another minion (unwrapped: event.send with
// a preload of "events").
func clean(jid, id, extra string) Event {
	return ev("salt/job/"+jid+"/ret/"+id, fmt.Sprintf(`{"cmd": "_return", "fun": "state.apply", "id": %q, "jid": %q, "retcode": 0, %s"return": {"test_|-a_|-a_|-succeed_without_changes": {"result": true, "changes": {}, "comment": "fine", "__run_num__": 0}}}`, id, jid, extra))
}

// A copy of a return is a duplicate unless it is judged worse: a clean
// return fired first can never hide the real failure behind it.
func TestWorseCopyIsNotADuplicate(t *testing.T) {
	sched := func(pid int) string { return fmt.Sprintf(`"schedule": "highstate", "pid": %d, `, pid) }
	cases := []struct {
		name string
		evs  []Event
		want string
	}{
		{"a clean copy first, the failure after: mailed on its own",
			[]Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", ""), clean(jid1, "m2", ""), ret(jid1, "m2", "")}, "m1:failed,m2 | m2:failed"},
		{"a failure first, a clean copy after: a duplicate",
			[]Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", ""), ret(jid1, "m2", ""), clean(jid1, "m2", "")}, "m1:failed,m2:failed"},
		{"the same failure twice: once",
			[]Event{newJob(jid1, "m1"), ret(jid1, "m1", ""), ret(jid1, "m1", "")}, "m1:failed"},
		{"a worse copy after the digest: a mail of its own",
			[]Event{newJob(jid1, "m1"), clean(jid1, "m1", ""), ret(jid1, "m1", "")}, "m1 | m1:failed"},
		{"a scheduled run seen clean, then failed under another jid (pid alike)",
			[]Event{clean(jid1, "m1", sched(11)), ret(jid2, "m1", sched(11))}, "m1,m1:failed"},
		{"a scheduled run seen failed, then clean under another jid: once",
			[]Event{ret(jid1, "m1", sched(11)), clean(jid2, "m1", sched(11))}, "m1:failed"},
		{"a return with no /new, clean then failed: both go",
			[]Event{clean(jid1, "m1", ""), ret(jid1, "m1", "")}, "m1,m1:failed"},
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

// A worse copy of a return of a job still in flight goes in a group
// mail, but the job stays in flight: its own digest names who did not
// return, and no restart takes it for digested.
func TestWorseCopyKeepsTheJobInFlight(t *testing.T) {
	tr := NewTracker(opts())
	evs := []Event{newJob(jid1, "m1", "m2"), clean(jid1, "m1", ""), ret(jid1, "m1", "")}
	ds := run(tr, evs, t0.Add(time.Minute))
	if got := strings.Join(summary(ds), " | "); got != "m1:failed" || len(ds[0].JIDs) != 0 || tr.jobs[jid1] == nil {
		t.Fatalf("the group: %q, jobs %v; in flight: %v", got, ds[0].JIDs, tr.jobs[jid1] != nil)
	}
	if _, due := tr.Handle(ret(jid1, "m2", ""), t0.Add(2*time.Minute)); len(due) != 0 {
		t.Fatalf("digested before it settled: %q", summary(due))
	}
	if got := strings.Join(summary(tr.Due(t0.Add(3*time.Minute))), " | "); got != "m1,m2:failed" {
		t.Errorf("the job's digest: %q", got)
	}
}

// A forged copy that holds several results (one under a look-alike
// name, in error) judges the tag's minion by its own results only: it
// cannot make the real failure "no worse".
func TestForgedCopyWithSeveralResults(t *testing.T) {
	forged := ev("salt/job/"+jid1+"/ret/m2", `{"cmd": "_return", "fun": "state.apply", "id": "m2", "jid": "`+jid1+`", "return": {"outputter": "highstate", "data": {"m2": {"test_|-a_|-a_|-succeed_without_changes": {"result": true, "changes": {}, "comment": "fine", "__run_num__": 0}}, "m2 ": "x"}}}`)
	got := strings.Join(summary(run(NewTracker(opts()), []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", ""), forged, ret(jid1, "m2", "")}, t0.Add(2*time.Hour))), " | ")
	if !strings.Contains(got, "m2:failed") {
		t.Errorf("m2's real failure is in no digest: %q", got)
	}
}
