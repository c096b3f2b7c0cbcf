package filter

import (
	"strings"
	"testing"
	"time"
)

// Modelled on Salt 3008.4's own output (testdata/corpus/*-3008.4 holds
// the captures): shapes that are not a map of state entries, yet say a
// job failed.
func TestJobsThatFailedWithoutStates(t *testing.T) {
	lowEntry := `{"__id__": "low_fail", "__run_num__": 0, "__sls__": null, "changes": {"pid": 10967, "retcode": 1, "stderr": "", "stdout": ""}, "comment": "Command \"exit 1\" run", "duration": 7.174, "name": "exit 1", "result": false, "start_time": "14:59:11.503816"}`
	cases := []struct {
		name, in                string
		status                  Status
		failed, minions, errors int
		function, saltSaid      string
	}{
		{"state.low from the CLI: one bare state", `{"local": ` + lowEntry + `}`, Critical, 1, 1, 0, "state.low", ""},
		{"state.low from the bus: the function from fun_args", `{"cmd": "_return", "fun": "state.low", "fun_args": [{"__id__": "low_fail", "fun": "run", "name": "exit 1", "state": "cmd"}], "id": "minion1", "jid": "20261130145911180752", "retcode": 2, "return": ` + lowEntry + `, "success": false}`, Critical, 1, 1, 0, "cmd.run", ""},
		{"a map of plain values is no state", `{"local": {"pid": 1, "retcode": 0, "stdout": "", "stderr": ""}}`, OK, 0, 0, 0, "", ""},
		{"the master did not answer", `"Salt request timed out. The master is not responding. You may need to run your command with ` + "`--async`" + `."` + "\n", Critical, 0, 0, 0, "", "Salt request timed out."},
		{"no minion matched", "No minions matched the target. No command was sent, no jid was assigned.\n{}\n", Critical, 0, 0, 0, "", "No minions matched the target."},
		{"list_job: a targeted minion without a return", `{"jid": "20261130145921667919", "Function": "state.apply", "Arguments": ["x"], "Minions": ["minion1", "minion2"], "Result": {"minion1": {"return": {"test_|-a_|-a_|-nop": {"result": true, "changes": {}, "comment": "", "name": "a", "__run_num__": 0}}, "retcode": 0, "success": true}}}`, Critical, 0, 2, 1, "", ""},
		{"a quoted line with more after it is text", `"quoted" and more` + "\n" + `{"m": {"test_|-a_|-a_|-nop": {"result": true, "changes": {}, "__run_num__": 0}}}`, OK, 0, 1, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Evaluate(strings.NewReader(c.in), "in", DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != c.status || v.Failed != c.failed || v.Minions != c.minions || v.Errors != c.errors {
				t.Errorf("%v, %d failed, %d minions, %d errors; want %v, %d, %d, %d", v.Status, v.Failed, v.Minions, v.Errors, c.status, c.failed, c.minions, c.errors)
			}
			if c.function != "" && (len(v.Results) != 1 || len(v.Results[0].States) != 1 || v.Results[0].States[0].Function != c.function || v.Results[0].States[0].ID != "low_fail") {
				t.Errorf("results %+v, want one state low_fail of %s", v.Results, c.function)
			}
			if c.saltSaid != "" && (len(v.SaltErrors) != 1 || !strings.HasPrefix(v.SaltErrors[0], c.saltSaid)) {
				t.Errorf("Salt said %q, want %q", v.SaltErrors, c.saltSaid)
			}
			// Suppress keeps what Salt said.
			out, _, _ := Suppress(v, func(string) Memory { return nil }, time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC), Policy{})
			if len(out.SaltErrors) != len(v.SaltErrors) || (len(v.SaltErrors) > 0 && out.Status != Critical) {
				t.Errorf("Suppress lost what Salt said: %q, %v", out.SaltErrors, out.Status)
			}
		})
	}
}

// Piped from the bus (salt-run state.event, Salt 3008.4's shapes), the
// events that are no returns are ignored; the returns count once.
func TestBusEventsThatAreNoReturns(t *testing.T) {
	in := `{"_stamp": "2026-11-30T15:39:31.617944+00:00", "arg": ["dup"], "fun": "state.apply", "jid": "20261130153931616165", "minions": ["minion1"], "missing": [], "tgt": "minion1", "tgt_type": "glob", "user": "root"}
{"_stamp": "2026-11-30T15:39:31.627598+00:00", "arg": ["dup"], "fun": "state.apply", "jid": "20261130153931616165", "ret": "", "start_event": true, "tgt": "minion1", "tgt_type": "glob", "user": "root"}
{"_stamp": "2026-11-30T15:39:31.765827+00:00", "cmd": "_minion_event", "data": {"fun": "state.apply", "id": "minion1", "jid": "20261130153931616165", "tgt": "minion1", "tgt_type": "glob", "user": "root"}, "id": "minion1", "pretag": null, "tag": "salt/job/20261130153931616165/start/minion1", "ts": 1796053171}
{"_stamp": "2026-11-30T15:39:40.936981+00:00", "driver": "cli", "fun": "state.apply", "jid": "20261130153939852657", "state": {"active": {}, "all_minions": ["minion2", "minion1"], "done": {"minion1": {"ret": {"test_|-a_|-a_|-fail_without_changes": {"result": false, "changes": {}, "comment": "x", "name": "a", "__run_num__": 0}}}}, "pending": []}}
{"_stamp": "2026-11-30T15:39:40.911533+00:00", "cmd": "_return", "fun": "state.apply", "fun_args": ["dup"], "id": "minion1", "jid": "20261130153939852657", "retcode": 2, "return": {"test_|-a_|-a_|-fail_without_changes": {"result": false, "changes": {}, "comment": "x", "name": "a", "__run_num__": 0}}, "success": false}
`
	v, err := Evaluate(strings.NewReader(in), "bus", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v.Minions != 1 || v.Failed != 1 || v.Errors != 0 {
		t.Errorf("%d minions, %d failed, %d errors: want the one return only", v.Minions, v.Failed, v.Errors)
	}
	want := []string{"a new job", "the job's publication", "a minion's start event", "a batch's progress"}
	for i, w := range want {
		if i >= len(v.Notes) || !strings.Contains(v.Notes[i], w) {
			t.Errorf("notes %q, want %q at %d", v.Notes, w, i)
		}
	}
}

// salt-ssh, when the function cannot run on a target (Salt 3008.4's
// shape, captured in testdata/corpus/salt-*/salt-ssh.*): the target is
// in error, with _error and the end of stderr.
func TestSaltSSHError(t *testing.T) {
	in := `{"target1": {"stdout": "export HOME='/root'\n", "stderr": "Traceback (most recent call last):\n  File \"<string>\", line 4, in <module>\nKeyError: 'MANPATH'\n", "retcode": 2, "parsed": null, "_error": "The command resulted in a non-zero exit code"}}`
	v, err := Evaluate(strings.NewReader(in), "ssh", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v.Errors != 1 || v.Status != Critical || len(v.Results) != 1 {
		t.Fatalf("%d errors, %v: want the target in error", v.Errors, v.Status)
	}
	if e := v.Results[0].Error; !strings.HasPrefix(e, "The command resulted in a non-zero exit code\n") || !strings.HasSuffix(e, "KeyError: 'MANPATH'") {
		t.Errorf("error %q", e)
	}
}
