package filter

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func stateDoc(minion, comment string, result string) string {
	return `{"` + minion + `": {"cmd_|-deploy_|-/usr/bin/deploy_|-run": {"result": ` + result + `, "changes": {"pid": ` + "123" + `, "retcode": 1}, "comment": "` + comment + `", "__id__": "deploy", "__run_num__": 0},` +
		`"test_|-ok_|-ok_|-nop": {"result": true, "changes": {}, "__run_num__": 1}}}`
}

// remember evaluates a document noting what succeeded, then
// suppresses, as the sending commands do.
func remember(t *testing.T, mem map[string]Memory, doc string, now time.Time, p Policy) (*Verdict, []Resolved) {
	t.Helper()
	o := DefaultOptions()
	o.KeepSucceeded = true
	v, err := Evaluate(strings.NewReader(doc), "in", o)
	if err != nil {
		t.Fatal(err)
	}
	out, resolved, next := Suppress(v, func(m string) Memory { return mem[m] }, now, p)
	for m, n := range next {
		mem[m] = n
	}
	return out, resolved
}

func TestSuppress(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Policy{RepeatInterval: 24 * time.Hour, SendResolved: true}
	mem := map[string]Memory{}
	steps := []struct {
		what     string
		doc      string
		at       time.Duration
		failed   int // failed states in the mail
		resolved int
		repeated []string
	}{
		{"a new failure is mailed", stateDoc("web1", "boom", "false"), 0, 1, 0, nil},
		{"the same failure an hour later is not", stateDoc("web1", "boom", "false"), time.Hour, 0, 0, []string{"web1"}},
		{"nor with another pid", strings.Replace(stateDoc("web1", "boom", "false"), `"pid": 123`, `"pid": 999`, 1), 2 * time.Hour, 0, 0, []string{"web1"}},
		{"a different error is mailed at once", stateDoc("web1", "BOOM again", "false"), 3 * time.Hour, 1, 0, nil},
		{"the same failure on another minion is mailed", stateDoc("web2", "boom", "false"), 3 * time.Hour, 1, 0, nil},
		{"a test run does not resolve it", stateDoc("web1", "would run", "null"), 4 * time.Hour, 0, 0, nil},
		{"after repeat_interval it is mailed again", stateDoc("web1", "BOOM again", "false"), 28 * time.Hour, 1, 0, nil},
		{"success resolves it", stateDoc("web1", "fine", "true"), 29 * time.Hour, 0, 1, nil},
		{"and it is forgotten", stateDoc("web1", "fine", "true"), 30 * time.Hour, 0, 0, nil},
	}
	for _, s := range steps {
		v, resolved := remember(t, mem, s.doc, t0.Add(s.at), p)
		mailed := 0
		for _, m := range v.Results {
			for _, st := range m.States {
				if st.Outcome == Failed {
					mailed++
				}
			}
		}
		if mailed != s.failed || len(resolved) != s.resolved || strings.Join(v.Repeated, ",") != strings.Join(s.repeated, ",") {
			t.Errorf("%s: %d failed mailed, %d resolved, repeated %v", s.what, mailed, len(resolved), v.Repeated)
		}
	}
}

func TestSuppressErrorsAndChanges(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Policy{RepeatInterval: time.Hour, SendResolved: true}
	mem := map[string]Memory{}
	dead := `{"web1": "Minion did not return. [No response]"}`
	v, _ := remember(t, mem, dead, t0, p)
	if v.Errors != 1 || !AllOutcomes.Wants(&v.Results[0]) {
		t.Fatal("a new error must mail")
	}
	v, _ = remember(t, mem, dead, t0.Add(time.Minute), p)
	if len(v.Results) != 0 || len(v.Repeated) != 1 {
		t.Fatalf("a repeated error: %+v", v.Results)
	}
	_, resolved := remember(t, mem, stateDoc("web1", "fine", "true"), t0.Add(2*time.Minute), p)
	if len(resolved) != 1 || resolved[0].Key != ErrorKey {
		t.Fatalf("the minion answering again resolves its error: %+v", resolved)
	}
	// Changes are events: mailed every time, unless suppress_changes.
	change := `{"web1": {"test_|-c_|-c_|-f": {"result": true, "changes": {"x": 1}, "__run_num__": 0}}}`
	for i, want := range []int{1, 1} {
		v, _ = remember(t, mem, change, t0.Add(time.Duration(i+3)*time.Minute), p)
		if v.Changed != want {
			t.Errorf("change %d: %d", i, v.Changed)
		}
	}
	p.SuppressChanges = true
	remember(t, mem, change, t0.Add(10*time.Minute), p)
	if v, _ = remember(t, mem, change, t0.Add(11*time.Minute), p); len(v.Results) != 0 {
		t.Error("suppress_changes: an identical change was mailed again")
	}
	// repeat_interval 0 mails every time.
	p = Policy{SendResolved: true}
	remember(t, mem, stateDoc("web3", "boom", "false"), t0, p)
	if v, _ = remember(t, mem, stateDoc("web3", "boom", "false"), t0.Add(time.Second), p); v.Failed != 1 {
		t.Error("repeat_interval 0 suppressed a failure")
	}
}

// keyPrint tells apart every reported state key of the corpus, every
// prefix of a long one (the tail bytes) and 100,000 keys alike but for
// a number.
func TestKeyPrintsDiffer(t *testing.T) {
	seen := map[uint64]string{}
	add := func(k string) {
		if other, dup := seen[keyPrint([]byte(k))]; dup && other != k {
			t.Errorf("%q and %q share a print", k, other)
		}
		seen[keyPrint([]byte(k))] = k
	}
	for _, path := range corpusFiles(t) {
		v, _ := evalFile(t, path)
		for _, m := range v.Results {
			for _, s := range m.States {
				add(s.Key)
			}
		}
	}
	long := "file_|-/etc/nginx/sites-available/default_|-/etc/nginx/sites-available/default_|-managed"
	for i := range long {
		add(long[:i])
	}
	for i := 0; i < 100000; i++ { // a big minion's keys, alike but for a number
		add(fmt.Sprintf("file_|-conf%d_|-/etc/app/conf%d_|-managed", i, i))
	}
	if len(seen) < 100100 {
		t.Errorf("only %d keys", len(seen))
	}
}
