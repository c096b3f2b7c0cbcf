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
