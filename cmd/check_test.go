package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/internal/golden"
)

// run drives the CLI in-process, as main does.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	f, out, errb := fixedFactory(t, stdin)
	code = Main(f, args)
	return code, out.String(), errb.String()
}

func corpus(rel string) string { return filepath.Join("..", "testdata", "corpus", rel) }

func TestCheck(t *testing.T) {
	mixed, err := os.ReadFile(corpus("master/salt.state.apply.mixed.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring ("" = must be empty)
	}{
		{"failures", "", []string{"check", corpus("master/salt.state.apply.failures.json.out")}, 2,
			"SALT CRITICAL - 15 failed, 0 changed, 0 pending on 3 minions | minions=3 states=18 failed=15 changed=0 pending=0 errors=0\n", ""},
		{"changes only", "", []string{"check", corpus("local/state.apply.changes.json.out")}, 1,
			"SALT WARNING - 0 failed, 4 changed, 0 pending on 1 minion | minions=1 states=5 failed=0 changed=4 pending=0 errors=0\n", ""},
		{"test=True", "", []string{"check", corpus("local/state.apply.changes.test-true.json.out")}, 1,
			"SALT WARNING - 0 failed, 0 changed, 3 pending on 1 minion |", ""},
		{"clean", "", []string{"check", corpus("master/salt.state.apply.nochange.json.out")}, 0, "SALT OK - 0 failed", ""},
		{"stdin", string(mixed), []string{"check"}, 2, "SALT CRITICAL - 1 failed, 1 changed", ""},
		{"dash is stdin", string(mixed), []string{"check", "-"}, 2, "on 3 minions", ""},
		{"dead minion", "", []string{"check", corpus("master-minion3-down/salt.state.apply.changes.json.out")}, 2,
			"SALT CRITICAL - 0 failed, 8 changed, 0 pending on 3 minions (1 did not return) | minions=3 states=10 failed=0 changed=8 pending=0 errors=1", ""},
		{"render error", "", []string{"check", corpus("master/salt.state.apply.jinja_error.json.out")}, 2, "(3 with errors)", ""},
		{"test.ping", "", []string{"check", corpus("master/salt.test.ping.json.out")}, 0, "SALT OK - 0 failed, 0 changed, 0 pending on 0 minions", ""},
		{"show-jid text line", "", []string{"check", corpus("master/salt.state.apply.mixed.json.show-jid.out")}, 2, "CRITICAL",
			"saltmail: warning: ../testdata/corpus/master/salt.state.apply.mixed.json.show-jid.out: line 1: skipped a line that is not JSON: jid: 20261125075159799969\n"},
		{"verbose notes", "", []string{"check", "-v", corpus("local/cmd.run_all.exit3.json.out")}, 0, "SALT OK", "note: minion local: not a state return, ignored"},
		{"empty input", "", []string{"check"}, 3, "SALT UNKNOWN - input unreadable (stdin: line 1, byte 0: no JSON document in the input)",
			"saltmail: stdin: line 1, byte 0: no JSON document in the input\n"},
		{"truncated keeps what arrived", string(mixed[:len(mixed)-40]), []string{"check"}, 3, "SALT UNKNOWN - input unreadable (stdin: line", "input ends inside the document"},
		{"missing file", "", []string{"check", "nope.json"}, 3, "SALT UNKNOWN", "saltmail: read open nope.json: no such file or directory\n"},
		{"bad output flag", "", []string{"check", "--output", "xml"}, 3, "", "--output must be text or json"},
		{"unknown flag", "", []string{"check", "--bogus"}, 3, "", "unknown flag: --bogus"},
		{"two files", "", []string{"check", corpus("local/state.apply.failures.json.out"), corpus("local/state.apply.changes.json.out")}, 2, "5 failed, 4 changed, 0 pending on 2 minions", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, c.stdin, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if !strings.Contains(out, c.stdout) {
				t.Errorf("stdout %q, want it to contain %q", out, c.stdout)
			}
			if c.stderr == "" && errOut != "" || !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q, want %q", errOut, c.stderr)
			}
			if strings.Count(errOut, "\n") > 1 && c.code == 3 {
				t.Errorf("more than one error line: %q", errOut)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	code, out, _ := run(t, "", "check", "--output", "json", corpus("master/salt.state.apply.mixed.json.out"))
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	var v struct {
		Status                                            string
		Minions, States, Failed, Changed, Pending, Errors int
		Results                                           []struct {
			Minion, Status           string
			StatesRun                int `json:"states_run"`
			Failed, Changed, Pending int
			States                   []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Status != "critical" || v.Minions != 3 || v.States != 5 || v.Failed != 1 || v.Changed != 1 || v.Errors != 0 {
		t.Errorf("top level %+v", v)
	}
	if len(v.Results) != 3 || v.Results[2].Minion != "minion1" || v.Results[2].Status != "critical" || v.Results[2].StatesRun != 2 {
		t.Fatalf("results %+v", v.Results)
	}
	st := v.Results[2].States[0]
	for _, k := range []string{"key", "id", "name", "function", "sls", "outcome", "result", "comment", "changes", "run_num", "duration_ms", "started"} {
		if _, ok := st[k]; !ok {
			t.Errorf("state lacks %q: %v", k, st)
		}
	}
	if st["outcome"] != "failed" || st["function"] != "cmd.run" || st["started"] != "07:50:33.082297" {
		t.Errorf("state %v", st)
	}
}

// TestCheckCorpusLines pins the check line and exit status of every
// capture in one golden file.
func TestCheckCorpusLines(t *testing.T) {
	var b strings.Builder
	for _, f := range golden.Captures(t) {
		code, out, _ := run(t, "", "check", f)
		fmt.Fprintf(&b, "%s\t%d\t%s", golden.Rel(f), code, out)
	}
	golden.Check(t, golden.Path("check-lines.txt"), []byte(b.String()))
}

// The reactor example sends the event as base64 (cmd.run rewrites
// backslash-n pairs in stdin); --base64 reads it back unchanged.
func TestBase64Input(t *testing.T) {
	raw, err := os.ReadFile(corpus("local/state.apply.diff.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	wrapped := enc[:40] + "\n" + enc[40:] + "\n" // line breaks are skipped
	_, plain, _ := run(t, string(raw), "check", "--output", "json")
	code, decoded, errb := run(t, wrapped, "check", "--base64", "--output", "json")
	if code != 1 || plain != decoded {
		t.Errorf("exit %d (%s); base64 verdict differs", code, errb)
	}
	code, _, errb = run(t, "not base64!", "check", "--base64")
	if code != 3 || !strings.Contains(errb, "illegal base64") {
		t.Errorf("exit %d: %s", code, errb)
	}
}

// A run with no state return (test.ping, a clean event) still has a
// list of results: scripts do `jq '.results[]'`.
func TestCheckJSONResultsAlwaysAList(t *testing.T) {
	ping := `{"fun": "test.ping", "id": "minion3", "jid": "20261125080136011486", "retcode": 0, "return": true, "success": true}`
	for _, c := range []struct{ stdin, file string }{{"", corpus("master/salt.test.ping.json.out")}, {ping, "-"}} {
		_, out, _ := run(t, c.stdin, "check", "--output", "json", c.file)
		var v map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		if string(v["results"]) != "[]" {
			t.Errorf("%s: results %s, want []", c.file, v["results"])
		}
	}
}
