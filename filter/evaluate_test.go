package filter

import (
	"strings"
	"testing"
)

// Hand-written shapes, each modelled on a capture in testdata/corpus.
func TestShapes(t *testing.T) {
	states := `{"test_|-fail_test_|-this state always fails_|-fail_without_changes": ` + failEntry + `}`
	type want struct {
		minions, failed, changed, pending, errors int
		status                                    Status
		first                                     string // first result: minion/jid/fun
		errText                                   string
	}
	cases := []struct {
		name string
		in   string
		want want
	}{
		{"event of a state run", `{"_stamp": "2026-11-25T08:01:51.814111", "cmd": "_return", "fun": "state.apply", "fun_args": ["mixed"], "id": "minion1", "jid": "20261125080150306048", "out": "highstate", "retcode": 2, "return": ` + states + `, "success": false}`,
			want{1, 1, 0, 0, 0, Critical, "minion1/20261125080150306048/state.apply", ""}},
		{"event of test.ping is ignored", `{"fun": "test.ping", "id": "minion3", "jid": "20261125080136011486", "retcode": 0, "return": true, "success": true}`,
			want{0, 0, 0, 0, 0, OK, "", ""}},
		{"event of a failed cmd.run is ignored", `{"fun": "cmd.run", "id": "m", "jid": "20261125080136011486", "retcode": 1, "return": "boom", "success": false}`,
			want{0, 0, 0, 0, 0, OK, "", ""}},
		{"event of saltutil.find_job is ignored", `{"fun": "saltutil.find_job", "id": "minion2", "jid": "20261125080301744656", "retcode": 0, "return": {"jid": "1", "fun": "state.apply"}, "success": true}`,
			want{0, 0, 0, 0, 0, OK, "", ""}},
		{"event with a render error", `{"fun": "state.apply", "id": "minion2", "jid": "20261125080218632056", "out": "highstate", "retcode": 1, "return": ["Rendering SLS 'base:yaml_error' failed: mapping values are not allowed here"], "success": false}`,
			want{1, 0, 0, 0, 1, Critical, "minion2/20261125080218632056/state.apply", "Rendering SLS"}},
		{"event failed without a failed state", `{"fun": "state.apply", "id": "m", "jid": "20261125080218632056", "retcode": 2, "return": {}, "success": false}`,
			want{1, 0, 0, 0, 1, Critical, "m/20261125080218632056/state.apply", "retcode 2, success false"}},
		{"event success false, states clean", `{"fun": "state.sls", "id": "m", "jid": "20261125080218632056", "retcode": 0, "return": {"test_|-a_|-a_|-nop": {"result": true, "changes": {}}}, "success": false}`,
			want{1, 0, 0, 0, 1, Critical, "m/20261125080218632056/state.sls", "success false"}},
		{"salt-api", `{"return": [{"minion1": ` + states + `, "minion2": {"test_|-a_|-a_|-nop": {"result": null, "changes": {}}}}]}`,
			want{2, 1, 0, 1, 0, Critical, "minion1//", ""}},
		{"batch extras", `{"retcode": 2, "jid": "20261125075318852040", "minion1": ` + states + `}`,
			want{1, 1, 0, 0, 0, Critical, "minion1/20261125075318852040/", ""}},
		{"did not return", `{"minion3": "Minion did not return. [No response]\nThe minions may not have all finished running"}`,
			want{1, 0, 0, 0, 1, Critical, "minion3//", "did not return"}},
		{"plain map is not a state return", `{"local": {"pid": 1176, "retcode": 3, "stdout": "out", "stderr": "err"}}`,
			want{0, 0, 0, 0, 0, OK, "", ""}},
		{"null and numbers are not state returns", `{"a": null, "b": 3, "c": [1, 2], "d": {}}`,
			want{0, 0, 0, 0, 0, OK, "", ""}},
		{"orchestration with a dead minion", `{"data": {"master_master": {"salt_|-step_|-step_|-state": {"name": "step", "changes": {"out": "highstate", "ret": {"minion1": ` + states + `, "minion3": false}}, "result": false, "comment": "Run failed on minions: minion3", "__run_num__": 0, "__jid__": "20261125075341338963"}, "salt_|-fn_|-fn_|-function": {"changes": {"ret": {"minion2": "orchestrated"}}, "result": true, "comment": "Function ran successfully.", "__run_num__": 1}}}, "outputter": "highstate", "retcode": 1}`,
			want{3, 2, 1, 0, 1, Critical, "master_master//state.orchestrate", ""}},
		{"jobs.list_job", `{"jid": "20261125075159799969", "Function": "state.apply", "Arguments": ["mixed"], "Result": {"minion1": {"return": ` + states + `, "retcode": 2, "success": false, "out": "highstate"}}}`,
			want{1, 1, 0, 0, 0, Critical, "minion1/20261125075159799969/state.apply", ""}},
		{"orchestration through a runner event", `{"fun": "runner.state.orchestrate", "jid": "20261125075340151263", "return": {"data": {"m_master": ` + states + `}, "outputter": "highstate", "retcode": 1}, "success": false}`,
			want{1, 1, 0, 0, 0, Critical, "m_master/20261125075340151263/state.orchestrate", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Evaluate(strings.NewReader(c.in), "in", DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			got := want{v.Minions, v.Failed, v.Changed, v.Pending, v.Errors, v.Status, "", ""}
			if len(v.Results) > 0 {
				r := v.Results[0]
				got.first = r.ID + "/" + r.JID + "/" + r.Fun
				got.errText = c.want.errText
				if !strings.Contains(errorsOf(v), c.want.errText) {
					got.errText = errorsOf(v)
				}
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func errorsOf(v *Verdict) string {
	var s []string
	for _, r := range v.Results {
		s = append(s, r.Error)
	}
	return strings.Join(s, "|")
}

func TestStateKeyParts(t *testing.T) {
	cases := []struct{ key, id, mod, sid, name, fun string }{
		{"cmd_|-fail_cmd_output_|-echo \"x\"; exit 3_|-run", "fail_cmd_output", "cmd", "fail_cmd_output", "echo \"x\"; exit 3", "run"},
		{"cmd_|-odd_|-a _|- b_|-run", "odd", "cmd", "odd", "a _|- b", "run"},
		{"cmd_|-False_|-False_|-run", "", "cmd", "False", "False", "run"},
		{"module_|-nested_module_run_|-nested_module_run_|-run", "nested_module_run", "module", "nested_module_run", "nested_module_run", "run"},
	}
	for _, c := range cases {
		mod, sid, name, fun := splitKey(c.key, c.id)
		if mod != c.mod || sid != c.sid || name != c.name || fun != c.fun {
			t.Errorf("%q: got %q %q %q %q", c.key, mod, sid, name, fun)
		}
	}
}

func TestCustomPathsAndFuns(t *testing.T) {
	in := `{"fun": "custom.deploy", "id": "m", "jid": "1", "return": {"x_|-a_|-a_|-y": {"ret": {"ok": false, "diff": {"a": 1}, "msg": "bad"}}}}`
	o := DefaultOptions()
	o.ResultPath, o.ChangesPath, o.CommentPath = "ret.ok", "ret.diff", "ret.msg"
	o.StateFuns = []string{"custom.deploy"}
	v, err := Evaluate(strings.NewReader(in), "in", o)
	if err != nil {
		t.Fatal(err)
	}
	if v.Failed != 1 || v.Results[0].States[0].Comment != "bad" || string(v.Results[0].States[0].Changes) != `{"a": 1}` {
		t.Errorf("custom paths not used: %+v", v.Results)
	}
}

func TestRunOrder(t *testing.T) {
	in := `{"m": {"t_|-b_|-b_|-f": {"result": false, "changes": {}, "__run_num__": 2}, "t_|-a_|-a_|-f": {"result": false, "changes": {}, "__run_num__": 1}, "t_|-c_|-c_|-f": {"result": null, "changes": {}, "__run_num__": 0}}}`
	v, _ := Evaluate(strings.NewReader(in), "in", DefaultOptions())
	var ids []string
	for _, s := range v.Results[0].States {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "c,a,b" {
		t.Errorf("order %v, want run order c,a,b", ids)
	}
}

// A --static document over the whole fleet is evaluated minion by
// minion once it outgrows the buffer; the result is the same.
func TestBigStaticDocument(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	const n = 3000
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`"minion` + strings.Repeat("0", 3) + itoa(i) + `": {"test_|-fail_test_|-this state always fails_|-fail_without_changes": ` + failEntry + `, "test_|-x_|-` + strings.Repeat("y", 500) + `_|-nop": {"result": true, "changes": {}}}`)
	}
	b.WriteString("}\n")
	v, err := Evaluate(strings.NewReader(b.String()), "static", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v.Minions != n || v.Failed != n || v.Total != 2*n {
		t.Errorf("minions %d failed %d states %d", v.Minions, v.Failed, v.Total)
	}
	if v.Results[0].ID != "minion0000" || v.Results[n-1].ID != "minion000"+itoa(n-1) {
		t.Errorf("order lost: %s ... %s", v.Results[0].ID, v.Results[n-1].ID)
	}
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}

// salt -b prints a dead minion only as a text line (corpus README,
// observation 2); it is the one news of that minion.
func TestBatchMinionDidNotRespond(t *testing.T) {
	in := "\nExecuting run on ['minion1']\n\n" + failDoc("minion1") + "\nMinion minion3 did not respond. No job will be sent.\n"
	v, err := Evaluate(strings.NewReader(in), "batch", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v.Minions != 2 || v.ErrorCount(NoReturn) != 1 || v.Results[1].ID != "minion3" || len(v.Warnings) != 1 {
		t.Errorf("minions %d, no return %d, warnings %q", v.Minions, v.ErrorCount(NoReturn), v.Warnings)
	}
}

// What a verdict keeps (ids, job ids, functions) must be copies: the
// input's buffer is reused for what follows.
func TestKeptStringsOutliveTheBuffer(t *testing.T) {
	in := `{"retcode": 2, "jid": "20261125075318852040", "minion1": {"test_|-fail_test_|-this state always fails_|-fail_without_changes": ` + failEntry + "}}\n" +
		`{"id": "minion2", "jid": "20261125075318852041", "fun": "state.apply", "return": "Minion did not return"}` + "\n"
	filler := strings.Repeat(failDoc("other")+"\n", 3*(4<<20)/len(failDoc("other")))
	for _, procs := range []int{1, 2} {
		opts := DefaultOptions()
		opts.Procs = procs
		e := NewEvaluator(opts)
		if err := e.Read(strings.NewReader(in+filler), "in"); err != nil {
			t.Fatal(err)
		}
		r := e.Verdict().Results
		if r[0].ID != "minion1" || r[0].JID != "20261125075318852040" || r[1].ID != "minion2" || r[1].JID != "20261125075318852041" || r[1].Fun != "state.apply" {
			t.Errorf("%d cores: kept strings changed: %q %q, %q %q %q", procs, r[0].ID, r[0].JID, r[1].ID, r[1].JID, r[1].Fun)
		}
	}
}
