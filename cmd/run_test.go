package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

func TestRun(t *testing.T) {
	highstate := corpus("master/salt.state.highstate.json.out")
	cases := []struct {
		name    string
		command []string
		extra   []string
		code    int
		subject string // "" = no mail
		body    string
	}{
		{"states failed", []string{"cat", highstate}, nil, 0, "[salt] 3 minions: 15 failed, 12 changed", "Summary for minion1"},
		{"clean run is silent", []string{"cat", corpus("master/salt.state.apply.nochange.json.out")}, nil, 0, "", ""},
		{"salt-call exits 1 with failures", []string{"sh", "-c", "cat " + corpus("local/state.apply.failures.json.out") + "; exit 1"}, nil, 1, "[salt] master1: 5 failed", "fail_test"},
		{"command failed, no JSON", []string{"sh", "-c", "echo 'Salt request timed out. The master is not responding.' >&2; exit 2"}, nil, 2,
			"[salt] command failed on master1: sh -c echo 'Salt request timed out. The master is not responding.' >&2; exit 2 (exit status 2)", "The master is not responding."},
		{"false", []string{"false"}, nil, 1, "[salt] command failed on master1: false (exit status 1)", "exit status 1"},
		{"time-out", []string{"sleep", "30"}, []string{"--timeout", "200ms"}, 124, "[salt] command failed on master1: sleep 30 (killed after 200ms)", "killed after 200ms"},
		{"cannot start", []string{"/nonexistent/salt-call"}, nil, 127, "[salt] command failed on master1: /nonexistent/salt-call (could not start", "no such file"},
		// The exit says it failed, the output says nothing of it: mail the
		// failure, with what the output showed.
		{"salt-ssh's exit 20 beside clean states", []string{"sh", "-c", "cat " + corpus("master/salt.state.apply.nochange.json.out") + "; exit 20"}, nil, 20,
			"[salt] command failed on master1: sh -c cat", "Its output shows:"},
		{"state.low ok, exit 1 (Salt 3008.4)", []string{"sh", "-c", "cat " + corpus("salt-3008.4/state.low.ok.json.out") + "; exit 1"}, nil, 1,
			"[salt] command failed on master1: sh -c cat", "low_ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			f, out, errb := fixedFactory(t, "")
			args := append(append(append([]string{"run", "--to", "ops@example.com"}, smtpArgs(t, s, t.TempDir())...), c.extra...), "--")
			code := Main(f, append(args, c.command...))
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errb)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q: run must be silent for cron", out)
			}
			msgs := s.Messages()
			if c.subject == "" {
				if len(msgs) != 0 {
					t.Errorf("%d mails for a clean run", len(msgs))
				}
				return
			}
			unfolded := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n "), []byte(" ")) }
			if len(msgs) != 1 || !bytes.Contains(unfolded(msgs[0].Data), []byte("Subject: "+c.subject)) || !bytes.Contains(msgs[0].Data, []byte(c.body)) {
				var got string
				if len(msgs) > 0 {
					got = string(msgs[0].Data[:min(600, len(msgs[0].Data))])
				}
				t.Errorf("%d mails; want subject %q and %q in:\n%s", len(msgs), c.subject, c.body, got)
			}
		})
	}
}

func TestRunNeedsACommand(t *testing.T) {
	f, _, errb := fixedFactory(t, "")
	if code := Main(f, []string{"run", "--to", "a@example.com"}); code != 2 || !strings.Contains(errb.String(), "requires at least 1 arg") {
		t.Errorf("exit %d: %s", code, errb)
	}
}

// Output that arrived before a time-out is mailed, saying it may be cut.
func TestRunTimeoutAfterOutput(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	f, _, errb := fixedFactory(t, "")
	args := append(append([]string{"run", "--to", "ops@example.com", "--timeout", "300ms"}, smtpArgs(t, s, t.TempDir())...),
		"--", "sh", "-c", "cat "+corpus("local/state.apply.failures.json.out")+"; echo 'jid: 1'; sleep 30")
	if code := Main(f, args); code != 124 || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("5 failed")) || !bytes.Contains(msgs[0].Data, []byte("killed after 300ms")) {
		t.Fatalf("%d mails", len(msgs))
	}
}

// run's edges: a time-out that is no time is a usage error; a daemon the
// command leaves holding its pipes does not hold run once the command
// has exited; the command gets no SMTP password in its environment.
func TestRunEdges(t *testing.T) {
	capture := corpus("master/salt.state.apply.mixed.json.out")
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	for _, timeout := range []string{"0s", "-1m"} {
		f, _, errb := fixedFactory(t, "")
		if code := Main(f, append([]string{"run", "--to", "ops@example.com", "--timeout", timeout}, append(smtpArgs(t, s, t.TempDir()), "--", "true")...)); code != 2 || !strings.Contains(errb.String(), "--timeout must be positive") {
			t.Errorf("--timeout %s: exit %d: %s", timeout, code, errb)
		}
	}
	pipeGrace = 300 * time.Millisecond
	t.Cleanup(func() { pipeGrace = 2 * time.Second })
	f, _, errb := fixedFactory(t, "")
	start := time.Now()
	// setsid: the sleeper leaves the process group a time-out would kill
	daemon := "cat " + capture + "; setsid sleep 30 & exit 0"
	code := Main(f, append([]string{"run", "--to", "ops@example.com", "--timeout", "20s"}, append(smtpArgs(t, s, t.TempDir()), "--", "sh", "-c", daemon)...))
	if took := time.Since(start); code != 0 || took > 10*time.Second {
		t.Errorf("exit %d after %v (%s): run waited for the daemon's pipes", code, took, errb)
	}
	if msgs := s.Messages(); len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("Subject: [salt] 3 minions: 1 failed, 1 changed")) || bytes.Contains(msgs[0].Data, []byte("unreadable")) {
		t.Errorf("want the report of the whole output, got %d mails", len(msgs))
	}
	t.Setenv("SALTMAIL_SMTP_PASSWORD", "hunter2")
	f, _, _ = fixedFactory(t, "")
	Main(f, append([]string{"run", "--to", "ops@example.com"}, append(smtpArgs(t, s, t.TempDir()), "--", "sh", "-c", `echo "password=[$SALTMAIL_SMTP_PASSWORD]" >&2; exit 1`)...))
	msgs := s.Messages()
	if last := msgs[len(msgs)-1].Data; bytes.Contains(last, []byte("hunter2")) || !bytes.Contains(last, []byte("password=3D[]")) { // quoted-printable
		t.Errorf("the command saw the password, or no mail:\n%s", last[len(last)-min(800, len(last)):])
	}
}
