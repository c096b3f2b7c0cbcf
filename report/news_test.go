package report

import (
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/filter"
)

// A digest shows the minions with failures or errors first, then those
// with changes, then those with pending states, each group in input
// order: in the text, the HTML table and the HTML body.
func TestDigestOrder(t *testing.T) {
	state := func(result string, changes string) string {
		return `{"test_|-s_|-s_|-t": {"result": ` + result + `, "changes": ` + changes + `, "comment": "", "name": "s", "__run_num__": 0}}`
	}
	in := `{"pend1": ` + state("null", "{}") + "}\n" + `{"chg1": ` + state("true", `{"a": 1}`) + "}\n" +
		`{"fail1": ` + state("false", "{}") + "}\n" + `{"err1": ["Rendering SLS failed"]}` + "\n" +
		`{"clean1": ` + state("true", "{}") + "}\n" + `{"chg2": ` + state("true", `{"a": 1}`) + "}\n"
	v, err := filter.Evaluate(strings.NewReader(in), "in", filter.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fail1", "err1", "chg1", "chg2", "pend1"}
	text, _ := Text(v, DefaultPartLimit)
	html, err := HTML(v, DefaultPartLimit)
	if err != nil {
		t.Fatal(err)
	}
	for what, part := range map[string]string{"text": text, "html": html} {
		last := -1
		for _, id := range want {
			mark := "\n" + id + ":\n"
			if what == "html" {
				mark = ">" + id + "</td>"
			}
			i := strings.Index(part, mark)
			if i < 0 || i < last {
				t.Errorf("%s: %s at %d, after %d: want the order %v", what, id, i, last, want)
			}
			last = i
		}
	}
	if b := strings.Index(html, ">fail1</h3>"); b < 0 || b > strings.Index(html, ">chg1</h3>") {
		t.Errorf("html body: fail1 at %d is not before chg1", b)
	}
}

// Resolved failures are grouped under their minion; a minion that did
// not return and is back "returns again".
func TestResolvedMail(t *testing.T) {
	since := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	rs := []filter.Resolved{
		{Minion: "web1", Key: "cmd_|-a_|-a_|-run", Was: filter.Remembered{ID: "a", Function: "cmd.run", First: since, Comment: "boom"}},
		{Minion: "web1", Key: "cmd_|-b_|-b_|-run", Was: filter.Remembered{ID: "b", Function: "cmd.run", First: since, Comment: "bang"}},
		{Minion: "web2", Key: filter.ErrorKey, Was: filter.Remembered{First: since, Comment: "Minion did not return. [No response]"}},
	}
	cases := []struct {
		rs      []filter.Resolved
		subject string
		text    []string
	}{
		{rs[2:], "[salt] web2: returns again", []string{"web2:\n    Returns again: it had not returned since 2026-11-25 10:00:00 UTC."}},
		{rs[:2], "[salt] web1: resolved: 2 states", []string{"web1:\n    State: a (cmd.run)", "    State: b (cmd.run)"}},
		{rs, "[salt] 2 minions: resolved: 2 states, 1 no longer in error", []string{"Resolved: 2 states that failed succeed again; 1 minion no longer in error."}},
	}
	for _, c := range cases {
		m, err := BuildResolved(c.rs, opts(t))
		if err != nil {
			t.Fatal(err)
		}
		_, hdr, parts := decoded(t, m)
		if subject, _ := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject")); subject != c.subject {
			t.Errorf("subject %q, want %q", subject, c.subject)
		}
		text := strings.ReplaceAll(parts["text/plain"], "\r\n", "\n")
		for _, w := range c.text {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the text lacks %q:\n%s", c.subject, w, text)
			}
		}
		if !strings.Contains(parts["text/html"], "<h3") {
			t.Errorf("%s: the HTML part does not group by minion", c.subject)
		}
	}
}

// After repeat suppression the subject counts what the mail reports as
// new, and says how many are known; the body's Summary still counts the
// whole run, as Salt's does.
func TestSubjectCountsNews(t *testing.T) {
	fail := func(id string) string {
		return `"cmd_|-` + id + `_|-` + id + `_|-run": {"result": false, "changes": {}, "comment": "boom", "name": "` + id + `", "__id__": "` + id + `", "__run_num__": 0}`
	}
	in := `{"web1": {` + fail("a") + `, ` + fail("b") + `, "test_|-c_|-c_|-t": {"result": true, "changes": {"x": 1}, "comment": "", "name": "c", "__run_num__": 1}}}`
	v := verdictOf(t, in)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := filter.Policy{RepeatInterval: 24 * time.Hour}
	_, _, mem := filter.Suppress(v, func(string) filter.Memory { return nil }, t0, p)
	again, _, _ := filter.Suppress(v, func(m string) filter.Memory { return mem[m] }, t0.Add(time.Hour), p)
	_, hdr, parts := raw(t, again, opts(t))
	if got := hdr.Get("Subject"); got != "[salt] web1: 1 changed, 2 already reported" {
		t.Errorf("subject %q", got)
	}
	if !strings.Contains(parts["text/plain"], "Failed:    2") {
		t.Errorf("the Summary no longer counts the whole run:\n%s", parts["text/plain"])
	}
}
