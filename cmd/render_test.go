package cmd

import (
	"net/mail"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	f, out, errb := fixedFactory(t, "")
	code := Main(f, []string{"render", "--from", "salt@example.com", "--to", "ops@example.com,dba@example.com", "--cc", "lead@example.com", "--bcc", "audit@example.com", corpus("master/salt.state.apply.mixed.json.out")})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	msg, err := mail.ReadMessage(strings.NewReader(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	for k, want := range map[string]string{
		"From": "<salt@example.com>", "To": "<ops@example.com>, <dba@example.com>", "Cc": "<lead@example.com>",
		"Subject": "[salt] 3 minions: 1 failed, 1 changed", "Date": "Wed, 25 Nov 2026 10:15:02 +0000",
		"Auto-Submitted": "auto-generated", "X-Salt-Minion": "minion2, minion1",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if h.Get("Bcc") != "" {
		t.Error("Bcc is a header")
	}
	if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<20261125101502.") || !strings.HasSuffix(id, ".saltmail@master1>") {
		t.Errorf("Message-ID %q", id)
	}
	if !strings.Contains(out.String(), "multipart/alternative") || !strings.Contains(out.String(), "text/html") {
		t.Error("not text + HTML")
	}
}

func TestRenderSilentAndErrors(t *testing.T) {
	to := []string{"--to", "ops@example.com"}
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		output bool
		stderr string
	}{
		{"clean run prints nothing", "", append([]string{"render", corpus("master/salt.state.apply.nochange.json.out")}, to...), 0, false, ""},
		{"test.ping prints nothing", "", append([]string{"render", corpus("master/salt.test.ping.json.out")}, to...), 0, false, ""},
		{"bad address", "", []string{"render", "--to", "ops@example.com\r\nBcc: x@y"}, 2, false, "--to"},
		{"bad subject template", "", append([]string{"render", "--subject", "{{.Nope"}, to...), 2, false, "--subject"},
		{"truncated input still mails what arrived", `{"web1": {"test_|-a_|-a_|-f": {"result": false, "changes": {}, "__run_num__": 0}}}` + "\n" + `{"web2": {`,
			append([]string{"render"}, to...), 3, true, "input ends inside the document"},
		{"empty input is news", "", append([]string{"render"}, to...), 3, true, "no JSON document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, c.stdin)
			code := Main(f, c.args)
			if code != c.code || (out.Len() > 0) != c.output || !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("exit %d, %d bytes out, stderr %q", code, out.Len(), errb)
			}
			if c.output && !strings.Contains(out.String(), "input unreadable") {
				t.Errorf("the mail does not say the input was unreadable")
			}
		})
	}
}

func TestRenderPerMinion(t *testing.T) {
	f, out, _ := fixedFactory(t, "")
	code := Main(f, []string{"render", "--per-minion", "--to", "ops@example.com", corpus("master/salt.state.highstate.json.out")})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(out.String(), "\nFrom saltmail@master1 ") + strings.Count(out.String()[:5], "From "); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
	for _, m := range []string{"[salt] minion1: 5 failed, 4 changed", "[salt] minion2: 5 failed, 4 changed", "[salt] minion3: 5 failed, 4 changed"} {
		if !strings.Contains(out.String(), "Subject: "+m) {
			t.Errorf("no mail %q", m)
		}
	}
}
