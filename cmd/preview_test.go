package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// render needs no recipient: a placeholder one stands in, unless the
// flag, the environment or the config file names one.
func TestRenderPlaceholderRecipient(t *testing.T) {
	mixed := corpus("master/salt.state.apply.mixed.json.out")
	config := filepath.Join(t.TempDir(), "saltmail.yaml")
	if err := os.WriteFile(config, []byte("to: file@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		to   []string // header lines
	}{
		{"none anywhere", []string{"render", mixed}, nil, []string{"To: <recipient@example.invalid>\r\n"}},
		{"--to", []string{"render", "--to", "ops@example.com", mixed}, nil, []string{"To: <ops@example.com>\r\n"}},
		{"environment", []string{"render", mixed}, map[string]string{"SALTMAIL_TO": "env@example.com"}, []string{"To: <env@example.com>\r\n"}},
		{"config file", []string{"render", "--config", config, mixed}, nil, []string{"To: <file@example.com>\r\n"}},
		{"only a Cc", []string{"render", "--cc", "cc@example.com", mixed}, nil, []string{"To: <recipient@example.invalid>\r\n", "Cc: <cc@example.com>\r\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, "")
			f.Getenv = func(k string) string { return c.env[k] }
			if code := Main(f, c.args); code != 0 || errb.Len() != 0 {
				t.Fatalf("exit %d, stderr %q", code, errb)
			}
			for _, h := range c.to {
				if !strings.Contains(out.String(), "\n"+h) {
					t.Errorf("no %q in\n%.600s", h, out)
				}
			}
		})
	}
	if _, out, _ := run(t, "", "render", "--help"); !strings.Contains(out, "recipient@example.invalid") {
		t.Error("render --help does not name the placeholder recipient")
	}
}

// --format text is the decoded text part under the subject, html the
// HTML part, eml the message; without --format a terminal gets text
// and a pipe eml.
func TestRenderFormats(t *testing.T) {
	mixed := corpus("master/salt.state.apply.mixed.json.out")
	subject := "Subject: [salt] 3 minions: 1 failed, 1 changed\n\nSalt: 1 failed, 1 changed"
	cases := []struct {
		name     string
		args     []string
		terminal bool
		code     int
		prefix   string
		has      []string
		hasNot   []string
	}{
		{"text", []string{"--format", "text"}, false, 0, subject, []string{"Summary for minion1\n", "Function: cmd.run"}, []string{"\r", "Content-Type", "=3D", "=\n", "<html"}},
		{"html", []string{"--format", "html"}, false, 0, "<!DOCTYPE html>", []string{"</html>"}, []string{"\r", "Subject:", "=3D"}},
		{"eml", []string{"--format", "eml"}, true, 0, "Mime-Version: 1.0\r\n", []string{"\r\nSubject: [salt] 3 minions", "multipart/alternative"}, nil},
		{"terminal: text", nil, true, 0, subject, nil, []string{"Mime-Version"}},
		{"pipe: eml", nil, false, 0, "Mime-Version: 1.0\r\n", nil, nil},
		{"attachment named in text", []string{"--format", "text", "--attach-json"}, false, 0, subject, []string{"\n[attached: saltmail-verdict.json, "}, nil},
		{"bad format", []string{"--format", "pdf"}, false, 2, "", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, "")
			f.IsTerminal = func() bool { return c.terminal }
			code := Main(f, append(append([]string{"render"}, c.args...), mixed))
			if code != c.code || !strings.HasPrefix(out.String(), c.prefix) {
				t.Fatalf("exit %d, stderr %q, stdout:\n%.300s", code, errb, out)
			}
			for _, s := range c.has {
				if !strings.Contains(out.String(), s) {
					t.Errorf("no %q", s)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(out.String(), s) {
					t.Errorf("%q in the preview", s)
				}
			}
		})
	}
}

// Several mails (--per-minion) in text come one after another, each
// under its subject; eml keeps the mbox (TestRenderPerMinion).
func TestRenderFormatsPerMinion(t *testing.T) {
	code, out, _ := run(t, "", "render", "--format", "text", "--per-minion", corpus("master/salt.state.highstate.json.out"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(out, "\n"+strings.Repeat("=", 72)+"\n"); n != 2 {
		t.Errorf("%d separators, want 2", n)
	}
	for _, m := range []string{"minion1", "minion2", "minion3"} {
		if !strings.Contains(out, "Subject: [salt] "+m+": 5 failed, 4 changed\n\n") {
			t.Errorf("no text mail for %s", m)
		}
	}
	if strings.Contains(out, "\nFrom saltmail@") {
		t.Error("mbox From_ lines in a text preview")
	}
}
