package filter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One job, seen by the reactor (the event's data, keys sorted) and
// printed by salt --out=json (Salt's order, indented), captured on each
// Salt line: every reported state has one fingerprint both ways, so the
// cron digest of the job the reactor mailed mails nothing again.
func TestFingerprintIsTheSameWhoeverPrintedIt(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "testdata", "corpus", "salt-*"))
	if len(dirs) < 3 {
		t.Fatalf("captures of %d Salt lines", len(dirs))
	}
	for _, dir := range dirs {
		prints := func(name string) map[string]string {
			fh, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			v, err := Evaluate(fh, name, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, m := range v.Results {
				for _, s := range m.States {
					out[m.ID+" "+s.Key] = fingerprint(s.Comment, s.Changes)
				}
			}
			return out
		}
		event, cli := prints("events.state.apply.dup.out"), prints("salt.state.apply.dup.json.out")
		if len(event) != 2 || len(cli) != 2 {
			t.Fatalf("%s: %d and %d reported states, want 2 each", dir, len(event), len(cli))
		}
		for k, fp := range event {
			if cli[k] != fp {
				t.Errorf("%s: %s: the event's fingerprint %s, the CLI's %s", dir, k, fp, cli[k])
			}
		}
	}
	// Salt 3008 lists failed requisites in no fixed order.
	a := fingerprint("One or more requisite failed: web.nginx, web.conf", nil)
	if b := fingerprint("One or more requisite failed: web.conf, web.nginx", nil); a != b {
		t.Error("the order of failed requisites changes the fingerprint")
	}
	for _, same := range [][2]string{{`{"a": 1, "b": [1.0, "x"]}`, `{"b":[1,"x"],"a":1}`}, {`{"pid": 1, "x": 2}`, `{"x": 2, "pid": 7}`}} {
		if fingerprint("c", []byte(same[0])) != fingerprint("c", []byte(same[1])) {
			t.Errorf("%s and %s differ", same[0], same[1])
		}
	}
	for _, differ := range [][2]string{{`{"a": 1}`, `{"a": 2}`}, {`{"a": "1"}`, `{"a": 1}`}, {`{"x": {"pid": 1}}`, `{"x": {"pid": 2}}`}} {
		if fingerprint("c", []byte(differ[0])) == fingerprint("c", []byte(differ[1])) {
			t.Errorf("%s and %s share a fingerprint", differ[0], differ[1])
		}
	}
}

// A test run resolves nothing and forgets nothing; a state absent from
// a run is not resolved either; what is not seen for ForgetAfter goes.
func TestTestRunsResolveNothing(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Policy{RepeatInterval: 24 * time.Hour, SendResolved: true, ForgetAfter: 30 * 24 * time.Hour}
	mem := map[string]Memory{}
	event := func(args, result, comment string) string {
		return `{"fun": "state.apply", "fun_args": [` + args + `], "id": "web1", "jid": "20261125100000000000", "retcode": 0, "success": true, "return": ` +
			strings.TrimSuffix(strings.TrimPrefix(stateDoc("web1", comment, result), `{"web1": `), "}") + `}`
	}
	if v, _ := remember(t, mem, event(`"app"`, "false", "boom"), t0, p); v.Failed != 1 {
		t.Fatal("the failure was not mailed")
	}
	steps := []struct {
		what string
		doc  string
	}{
		{"test=True on the command line", event(`"app", "test=True"`, "true", "would be fine")},
		{"test as a keyword argument", event(`"app", {"test": true, "__kwarg__": true}`, "true", "would be fine")},
		{"a run where the state is absent", `{"web1": {"test_|-other_|-other_|-nop": {"result": true, "changes": {}, "__run_num__": 0}}}`},
	}
	for i, s := range steps {
		if _, resolved := remember(t, mem, s.doc, t0.Add(time.Duration(i+1)*time.Hour), p); len(resolved) != 0 {
			t.Errorf("%s resolved %v", s.what, resolved)
		}
		if len(mem["web1"]) != 1 {
			t.Errorf("%s: the failure is forgotten: %v", s.what, mem["web1"])
		}
	}
	// The state disappears from the SLS: after ForgetAfter it is gone.
	remember(t, mem, steps[2].doc, t0.Add(31*24*time.Hour), p)
	if len(mem["web1"]) != 0 {
		t.Errorf("a state not seen for 31 days is remembered: %v", mem["web1"])
	}
}

// A mailed time in the future (the clock went backwards) counts as now:
// the failure is suppressed for repeat_interval from now, not for years.
func TestMailedInTheFuture(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Policy{RepeatInterval: 24 * time.Hour}
	mem := map[string]Memory{}
	remember(t, mem, stateDoc("web1", "boom", "false"), t0.AddDate(10, 0, 0), p) // a clock ten years ahead
	if v, _ := remember(t, mem, stateDoc("web1", "boom", "false"), t0, p); len(v.Repeated) != 1 {
		t.Fatalf("the failure mailed 'in ten years' is not known now: repeated %v", v.Repeated)
	}
	for k, r := range mem["web1"] {
		if r.Mailed.After(t0) {
			t.Errorf("%s: mailed %v is still in the future", k, r.Mailed)
		}
	}
	if v, _ := remember(t, mem, stateDoc("web1", "boom", "false"), t0.Add(25*time.Hour), p); v.Failed != 1 {
		t.Errorf("a day later the failure is still suppressed: %d failed mailed", v.Failed)
	}
}
