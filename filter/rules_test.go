package filter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func evalWith(t *testing.T, capture string, rules ...Rule) *Verdict {
	t.Helper()
	o := DefaultOptions()
	o.Rules = rules
	v, err := Evaluate(strings.NewReader(readCapture(t, capture)), capture, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func rule(t *testing.T, kind RuleKind, s string) Rule {
	t.Helper()
	r, err := ParseRule(kind, s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every rule kind on real captures.
func TestRules(t *testing.T) {
	cases := []struct {
		name, capture                     string
		kind                              RuleKind
		rule                              string
		failed, changed, pending, ignored int
		status                            Status
	}{
		{"no rule", "local/state.apply.failures.json.out", Ignore, "", 5, 0, 0, 0, Critical},
		{"ignore by function", "local/state.apply.failures.json.out", Ignore, "function=cmd.run", 3, 0, 0, 2, Critical},
		{"ignore by id glob", "local/state.apply.failures.json.out", Ignore, "id=fail_*", 0, 0, 0, 5, OK},
		{"ignore by name", "local/state.apply.failures.json.out", Ignore, "name=this state always fails", 4, 0, 0, 1, Critical},
		{"ignore by sls and minion", "master/salt.state.apply.mixed.json.out", Ignore, "minion=minion1,sls=mixed", 0, 1, 0, 2, Warning},
		{"ignore other minion only", "master/salt.state.apply.mixed.json.out", Ignore, "minion=minion9", 1, 1, 0, 0, Critical},
		{"ignore_changes: always-changing cmd.run", "local/state.apply.changes.json.out", IgnoreChanges, "function=cmd.run", 0, 3, 0, 1, Warning},
		{"ignore_changes keeps failures", "local/state.apply.failures.json.out", IgnoreChanges, "function=cmd.run", 5, 0, 0, 0, Critical},
		{"ignore_changes in a test run", "local/state.apply.changes.test-true.json.out", IgnoreChanges, "function=cmd.run", 0, 0, 2, 1, Warning},
		{"ignore_changes with a gjson condition", "local/state.apply.changes.json.out", IgnoreChanges, "function=cmd.run,if=changes.retcode==0", 0, 3, 0, 1, Warning},
		{"condition that does not hold", "local/state.apply.changes.json.out", IgnoreChanges, "function=cmd.run,if=changes.retcode==1", 0, 4, 0, 0, Warning},
		{"condition on a failed state", "local/state.apply.failures.json.out", Ignore, "if=changes.retcode>2", 4, 0, 0, 1, Critical},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rules []Rule
			if c.rule != "" {
				rules = append(rules, rule(t, c.kind, c.rule))
			}
			v := evalWith(t, c.capture, rules...)
			if v.Failed != c.failed || v.Changed != c.changed || v.Pending != c.pending || v.Ignored != c.ignored || v.Status != c.status {
				t.Errorf("failed %d changed %d pending %d ignored %d %v; want %d %d %d %d %v",
					v.Failed, v.Changed, v.Pending, v.Ignored, v.Status, c.failed, c.changed, c.pending, c.ignored, c.status)
			}
			states := 0
			for _, m := range v.Results {
				states += len(m.States)
			}
			if states != c.failed+c.changed+c.pending {
				t.Errorf("%d states reported, counts say %d", states, c.failed+c.changed+c.pending)
			}
		})
	}
}

func TestParseRuleErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "matches every state",
		"function":             "is not key=value",
		"host=web1":            `unknown key "host"`,
		"id=[":                 "bad glob",
		"function=cmd.run,id=": "is not key=value",
	} {
		if _, err := ParseRule(Ignore, in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	r, err := ParseRule(IgnoreChanges, "function=cmd.run, if=changes.stdout%\"*a,b*\"")
	if err != nil || r.If != `changes.stdout%"*a,b*"` || r.Function != "cmd.run" {
		t.Errorf("%+v %v", r, err)
	}
}

func TestOutcomes(t *testing.T) {
	on, err := ParseOutcomes([]string{"failed", "error"})
	if err != nil {
		t.Fatal(err)
	}
	changes := evalWith(t, "local/state.apply.changes.json.out")
	failures := evalWith(t, "local/state.apply.failures.json.out")
	if on.Wants(&changes.Results[0]) || !on.Wants(&failures.Results[0]) {
		t.Error("failed,error must want failures only")
	}
	if _, err := ParseOutcomes([]string{"broken"}); err == nil {
		t.Error("unknown outcome accepted")
	}
}

func readCapture(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
