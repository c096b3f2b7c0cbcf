package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// emptyDirs fails the test when any of dirs holds anything, or a
// default path of f was created.
func emptyDirs(t *testing.T, f *Factory, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if ls, err := os.ReadDir(d); err != nil || len(ls) != 0 {
			t.Errorf("%s: %v %v", d, ls, err)
		}
	}
	for _, p := range []string{f.Paths.SpoolDir, f.Paths.UserSpoolDir, filepath.Dir(f.Paths.SpoolDir)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}

// saltmail --dry-run says what would go to whom, delivers nothing, and
// neither spools nor remembers: the real run after it still mails,
// and a dry run after that leaves out the failure it reported (the
// change is mailed again: suppress_changes is off).
func TestSendDryRun(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	spool, state := t.TempDir(), t.TempDir()
	mixed := corpus("master/salt.state.apply.mixed.json.out")
	args := append([]string{"--to", "ops@example.com", "--cc", "Lead <lead@example.com>", "--bcc", "audit@example.com", mixed}, transportArgs(t, s)...)
	args = append(args, "--spool-dir", spool, "--state-dir", state, "--from", "salt@example.com")

	_, eml, _ := run(t, "", append([]string{"render", "--format", "eml"}, args[:7]...)...)
	f, out, errb := fixedFactory(t, "")
	if code := Main(f, append([]string{"--dry-run"}, args...)); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	for _, want := range []string{
		"dry run: 1 mail would go through SMTP " + s.Host, "nothing was sent, spooled or remembered",
		"\nmail 1 of 1: [salt] 3 minions: 1 failed, 1 changed\n",
		"\n  From: salt@example.com\n", "\n  To: ops@example.com\n", "\n  Cc: Lead <lead@example.com>\n", "\n  Bcc: audit@example.com\n",
		fmt.Sprintf("\n  size: %d bytes\n", len(eml)),
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("a dry run delivered %d mails", n)
	}
	emptyDirs(t, f, spool, state)

	if code, _, errb := run(t, "", args...); code != 0 || len(s.Messages()) != 1 {
		t.Fatalf("the real run after it: exit %d, %d mails, %s", code, len(s.Messages()), errb)
	}
	if code, out, _ := run(t, "", append([]string{"--dry-run"}, args...)...); code != 0 || !strings.Contains(out, "\nmail 1 of 1: [salt] 2 minions: 1 changed\n") {
		t.Errorf("dry run after the real one: exit %d\n%s", code, out)
	}
	if len(s.Messages()) != 1 {
		t.Errorf("%d mails", len(s.Messages()))
	}
}

// A dry run with a broken configuration or input exits as the real run
// would, keeping no alert in the spool.
func TestSendDryRunErrors(t *testing.T) {
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no recipient", "", []string{corpus("master/salt.state.apply.mixed.json.out"), "--smtp-host", "mail.example.com"}, 2, "", "at least one recipient"},
		{"no transport", "", []string{corpus("master/salt.state.apply.mixed.json.out"), "--to", "ops@example.com"}, 2, "", "smtp.host"},
		{"unreadable input is news", `{"web1": {`, []string{"--to", "ops@example.com", "--smtp-host", "mail.example.com"}, 3, "input unreadable", "input ends inside"},
		{"clean run", "", []string{corpus("master/salt.state.apply.nochange.json.out"), "--to", "ops@example.com", "--smtp-host", "mail.example.com"}, 0, "nothing would be mailed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, c.stdin)
			code := Main(f, append([]string{"--dry-run"}, c.args...))
			if code != c.code || !strings.Contains(out.String(), c.stdout) || !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errb)
			}
			emptyDirs(t, f)
		})
	}
}

// run --dry-run runs its command (its output is the preview's) and
// exits with its status, sending, spooling and remembering nothing.
func TestRunDryRun(t *testing.T) {
	highstate := corpus("master/salt.state.highstate.json.out")
	cases := []struct {
		name    string
		command string
		code    int
		subject string
	}{
		{"states failed", "cat " + highstate, 0, "[salt] 3 minions: 15 failed, 12 changed"},
		{"command failed", "echo master down >&2; exit 2", 2, "[salt] command failed on master1: sh -c"},
		{"clean", "cat " + corpus("master/salt.state.apply.nochange.json.out"), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			spool, state := t.TempDir(), t.TempDir()
			marker := filepath.Join(t.TempDir(), "ran")
			f, out, errb := fixedFactory(t, "")
			args := append([]string{"run", "--dry-run", "--to", "ops@example.com", "--spool-dir", spool, "--state-dir", state}, transportArgs(t, s)...)
			code := Main(f, append(args, "--", "sh", "-c", "touch "+marker+"; "+c.command))
			if code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, errb)
			}
			if _, err := os.Stat(marker); err != nil {
				t.Error("the command did not run")
			}
			if c.subject != "" && !strings.Contains(out.String(), "\nmail 1 of 1: "+c.subject) || c.subject == "" && !strings.Contains(out.String(), "nothing would be mailed") {
				t.Errorf("stdout:\n%s", out)
			}
			if len(s.Messages()) != 0 {
				t.Error("a dry run delivered")
			}
			emptyDirs(t, f, spool, state)
		})
	}
}
