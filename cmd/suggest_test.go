package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// A mistyped command is a usage error: no alert about an unreadable
// input reaches the team, nothing is spooled. A missing file that looks
// like no command, or is given as a path, is still bad input, mailed.
func TestCommandTypo(t *testing.T) {
	report, err := filepath.Abs(corpus("master/salt.state.apply.mixed.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		file   string // the first FILE argument, the report follows
		code   int
		stderr string
		mails  int
	}{
		{"typo", "chek", 2, `saltmail: unknown command "chek" (did you mean check?)`, 0},
		{"swapped letters", "chcek", 2, `unknown command "chcek" (did you mean check?)`, 0},
		{"missing letter", "rendr", 2, `unknown command "rendr" (did you mean render?)`, 0},
		{"prefix", "test", 2, `unknown command "test" (did you mean test-mail?)`, 0},
		{"near two", "rn", 2, `unknown command "rn" (did you mean run?)`, 0},
		{"missing file like no command", "nightly-highstate.json", 3, "nightly-highstate.json: no such file", 1},
		{"a path is a file", "./chek", 3, "./chek: no such file", 1},
		{"an existing file named like a typo", "flsh", 0, "", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chdir(t, t.TempDir()) // where "flsh" exists and "chek" does not
			if err := os.WriteFile("flsh", []byte(`{"web1": {"test_|-a_|-a_|-f": {"result": false, "changes": {}, "__run_num__": 0}}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			spool := t.TempDir()
			f, out, errb := fixedFactory(t, "")
			args := append([]string{c.file, report, "--to", "ops@example.com"}, smtpArgs(t, s, spool)...)
			code := Main(f, args)
			if code != c.code || !strings.Contains(errb.String(), c.stderr) || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errb)
			}
			if n := len(s.Messages()); n != c.mails {
				t.Errorf("%d mails delivered, want %d", n, c.mails)
			}
			if rest, _ := os.ReadDir(spool); len(rest) != 0 {
				t.Errorf("spooled %v", rest)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"check", "check", 0}, {"chek", "check", 1}, {"chcek", "check", 1},
		{"rendr", "render", 1}, {"fun", "run", 1}, {"x", "run", 3}, {"", "run", 3},
		{"ca", "abc", 3}, {"smtp.hots", "smtp.host", 1}, {"héllo", "hello", 1},
	}
	for _, c := range cases {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := editDistance(c.b, c.a); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	commands := []string{"check", "render", "flush", "test-mail", "run", "help"}
	cases := []struct {
		word string
		want string
	}{
		{"chek", " (did you mean check?)"},
		{"CHEK", " (did you mean check?)"},
		{"r", " (did you mean run or render?)"},
		{"hep", " (did you mean help?)"},
		{"highstate.json", ""},
		{"x", ""},
	}
	for _, c := range cases {
		if got := didYouMean(c.word, commands); got != c.want {
			t.Errorf("didYouMean(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// chdir is testing.T.Chdir (go 1.24) for go 1.23: no cmd test runs in
// parallel.
func chdir(t *testing.T, dir string) {
	t.Helper()
	old, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Chdir(old); err != nil {
			t.Fatal(err)
		}
	})
}
