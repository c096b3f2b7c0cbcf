package report

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/filter"
)

// failedCmd is a failed cmd.run as the master capture
// salt.state.apply.failures.json.out has it (fail_cmd_output), with
// stdout made huge.
func failedCmd(stdout string) string {
	return `"cmd_|-fail_cmd_output_|-build.sh_|-run": {"name": "build.sh", "changes": {"pid": 17425, "retcode": 3, "stdout": "` + stdout + `", "stderr": "error text"}, ` +
		`"result": false, "comment": "Command \"build.sh\" run", "__sls__": "failures", "__run_num__": 3, "start_time": "07:50:50.102203", "duration": 3.854, "__id__": "fail_cmd_output"}`
}

// failedDiff is a failed file.managed whose diff is huge: every line
// coloured in the HTML part, which makes it grow there.
func failedDiff(diff string) string {
	return `"file_|-fail_config_|-/etc/app.conf_|-managed": {"name": "/etc/app.conf", "changes": {"diff": "` + diff + `"}, ` +
		`"result": false, "comment": "Failed to validate /etc/app.conf", "__sls__": "failures", "__run_num__": 4, "start_time": "07:50:50.155372", "duration": 116.359, "__id__": "fail_config"}`
}

// A failed state whose changes are larger than a part is still shown,
// its header and comment whole, its changes cut with a note; the rest
// of the minion and the other minions' failures too.
func TestFailedStateTooLargeIsCut(t *testing.T) {
	lines := strings.Repeat("compiling module 0042 of 9000: ok\\n", 30000) // ~1 MB
	oneLine := strings.Repeat("x", 1<<20)
	diff := strings.Repeat("+<b>added</b> line\\n-removed & gone\\n", 20000) // ~650 KB
	script := strings.Repeat("echo step; ", 100000)                          // 1 MB inline: cmd.run's name and comment
	inline := `"cmd_|-fail_script_|-` + script + `_|-run": {"name": "` + script + `", "changes": {"pid": 17425, "retcode": 3, "stdout": "", "stderr": "error text"}, ` +
		`"result": false, "comment": "Command \"` + script + `\" run", "__run_num__": 0, "start_time": "07:50:50.102203", "duration": 3.854, "__id__": "fail_script"}`
	small := `"test_|-fail_test_|-this state always fails_|-fail_without_changes": {"name": "this state always fails", "changes": {}, "result": false, "comment": "Failure!", "__run_num__": 0, "__id__": "fail_test"}`
	cases := []struct {
		name, in string
		ids      []string // each must be shown with its comment
		comments []string
	}{
		{"cmd.run 1 MB of lines", `{"web1": {` + failedCmd(lines) + `}}`,
			[]string{"fail_cmd_output"}, []string{`Command "build.sh" run`}},
		{"cmd.run 1 MB on one line", `{"web1": {` + failedCmd(oneLine) + `}}`,
			[]string{"fail_cmd_output"}, []string{`Command "build.sh" run`}},
		{"650 KB diff", `{"web1": {` + failedDiff(diff) + `}}`,
			[]string{"fail_config"}, []string{"Failed to validate /etc/app.conf"}},
		{"two huge, and a small failure elsewhere", `{"web1": {` + failedCmd(lines) + `, ` + failedDiff(diff) + `}}` + "\n" + `{"web2": {` + small + `}}`,
			[]string{"fail_cmd_output", "fail_config", "fail_test"}, []string{`Command "build.sh" run`, "Failed to validate", "Failure!"}},
		{"cmd.run of a 1 MB script", `{"web1": {` + inline + `}}`, []string{"fail_script"}, []string{`Command "echo step; echo step; `}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg, _, parts := raw(t, verdictOf(t, c.in), opts(t))
			text, html := strings.ReplaceAll(parts["text/plain"], "\r\n", "\n"), parts["text/html"]
			for i, id := range c.ids {
				if !strings.Contains(text, "ID: "+id+"\n") || !strings.Contains(text, "Comment: "+c.comments[i]) {
					t.Errorf("text part lacks state %s or its comment", id)
				}
				if !strings.Contains(html, ">"+id+" <span") || !strings.Contains(html, strings.ReplaceAll(c.comments[i], `"`, "&#34;")) {
					t.Errorf("HTML part lacks state %s or its comment", id)
				}
			}
			for name, p := range map[string]string{"text": text, "html": html} {
				if !strings.Contains(p, "bytes cut, see attachment]") || strings.Contains(p, "not shown, to keep") {
					t.Errorf("%s part: cut note %v, something not shown %v", name, strings.Contains(p, "bytes cut"), strings.Contains(p, "not shown, to keep"))
				}
				if len(p) > DefaultPartLimit {
					t.Errorf("%s part is %d bytes, over %d", name, len(p), DefaultPartLimit)
				}
			}
			if len(msg) > 4<<20 {
				t.Errorf("message is %d bytes", len(msg))
			}
		})
	}
}

// deep is a changed state whose changes nest times open ... close, as a
// reactor event of a state run carries them.
func deep(times int, open, close string) *filter.Verdict {
	ch := strings.Repeat(open, times) + `"leaf"` + strings.Repeat(close, times)
	in := `{"id": "web1", "jid": "20261125080140161737", "fun": "state.apply", "retcode": 0, "success": true, "return": {` +
		`"module_|-deep_|-deep_|-run": {"__id__": "deep", "__run_num__": 0, "__sls__": "deep", "changes": ` + ch +
		`, "comment": "Module function deep executed", "duration": 16.084, "name": "deep", "result": true, "start_time": "08:01:41.123042"}}}`
	v, err := filter.Evaluate(strings.NewReader(in), "deep", filter.DefaultOptions())
	if err != nil {
		panic(err)
	}
	return v
}

// Changes nested 9,990 deep render in bounded memory, and say how deep
// they were cut; a list that deep is not a dict, and Salt prints it on
// one line ("Invalid Changes data").
func TestDeepNestingIsBounded(t *testing.T) {
	note := fmt.Sprintf("(nested deeper than %d levels: not shown)", maxDepth)
	renders := []struct {
		name   string
		render func(*filter.Verdict) string
	}{
		{"text", func(v *filter.Verdict) string { s, _ := Text(v, DefaultPartLimit); return s }},
		{"html", func(v *filter.Verdict) string { s, _ := HTML(v, DefaultPartLimit); return s }},
		{"text, no limit", func(v *filter.Verdict) string { s, _ := Text(v, -1); return s }},
	}
	for _, c := range []struct {
		name, open, close, want string
		times                   int // 9,990 levels in all
	}{
		{"maps", `{"a":`, `}`, note, 9990},
		{"maps of lists", `{"a":[`, `]}`, note, 4995},
		{"lists", `[`, `]`, strings.Repeat("[", maxDepth) + note + "]", 9990},
	} {
		v := deep(c.times, c.open, c.close)
		for _, r := range renders {
			t.Run(c.name+", "+r.name, func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				out := r.render(v)
				runtime.ReadMemStats(&after)
				if got := after.TotalAlloc - before.TotalAlloc; got > 100<<20 {
					t.Errorf("allocated %d MB", got>>20)
				}
				if !strings.Contains(out, c.want) {
					t.Errorf("no %q in the part", c.want)
				}
			})
		}
	}
}

// BenchmarkDeepNesting shows the cost grows with the depth linearly (or
// not at all, past the depth shown).
func BenchmarkDeepNesting(b *testing.B) {
	for _, depth := range []int{999, 9990} {
		v := deep(depth, `{"a":`, `}`)
		b.Run(fmt.Sprint(depth), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Text(v, DefaultPartLimit)
				if _, err := HTML(v, DefaultPartLimit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
