package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/filter"
)

// Each command registers the flags of the settings it uses, and no
// other: a flag a command would ignore is an error, not a silent no-op.
func TestEachCommandHasItsFlags(t *testing.T) {
	cases := []struct {
		cmd       string
		has, hasn []string
	}{
		{"", []string{"to", "smtp-host", "state-dir", "state-funs", "ignore", "spool-dir", "base64"}, nil},
		{"run", []string{"to", "smtp-host", "state-dir", "result-path", "timeout"}, nil},
		{"check", []string{"state-funs", "result-path", "ignore", "ignore-changes", "output", "base64"},
			[]string{"to", "smtp-host", "spool-dir", "state-dir", "on", "subject"}},
		{"render", []string{"to", "subject", "on", "state-dir", "repeat-interval", "spool-dir", "comment-path"},
			[]string{"smtp-host", "sendmail", "retry-attempts"}},
		{"flush", []string{"smtp-host", "sendmail", "retry-attempts", "spool-dir"},
			[]string{"to", "from", "state-dir", "subject", "state-funs"}},
		{"test-mail", []string{"to", "from", "bcc", "smtp-host", "sendmail"},
			[]string{"subject", "spool-dir", "state-dir", "per-minion", "state-funs"}},
	}
	f, _, _ := fixedFactory(t, "")
	root := NewCmdRoot(f)
	for _, c := range cases {
		cmd := root
		if c.cmd != "" {
			var err error
			if cmd, _, err = root.Find([]string{c.cmd}); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range c.has {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("%q has no --%s", c.cmd, name)
			}
		}
		for _, name := range c.hasn {
			if cmd.Flags().Lookup(name) != nil {
				t.Errorf("%q has --%s, which it would ignore", c.cmd, name)
			}
		}
		if cmd.Flags().Lookup("smtp-password") != nil {
			t.Errorf("%q has --smtp-password: ps would show it", c.cmd)
		}
	}
}

// --help shows each flag's type and its default.
func TestHelpShowsTypesAndDefaults(t *testing.T) {
	code, out, _ := run(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"--smtp-timeout duration", "(default 10s)",
		`--smtp-tls string`, `(default "starttls")`,
		"--retry-attempts int", "(default 4)",
		"--repeat-interval duration", "(default 24h)",
		"--to strings", "--ignore rule",
		"--send-resolved[=true|false]", "(default true)",
		"--max-part-bytes int", "(default 1048576)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if strings.Contains(out, " value") {
		t.Errorf("--help still shows untyped flags:\n%s", out)
	}
}

// The input options are settings like any other: YAML, environment and
// flags. state_funs in YAML used to be an unknown key.
func TestInputSettingsFromEverySource(t *testing.T) {
	event := `{"fun": "state.sls", "id": "m1", "jid": "20261125080150306048", "retcode": 2, "success": false, "return": {"test_|-a_|-a_|-fail_without_changes": {"result": false, "changes": {}, "comment": "Failure!", "__run_num__": 0}}}`
	yaml := writeConfig(t, 0o600, "state_funs: [state.apply]\nresult_path: result\n")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default list", nil, nil, "SALT CRITICAL - 1 failed"},
		{"YAML", nil, []string{"--config", yaml}, "SALT OK - 0 failed"},
		{"environment", map[string]string{"SALTMAIL_STATE_FUNS": "state.apply,state.highstate"}, nil, "SALT OK - 0 failed"},
		{"flag over YAML", nil, []string{"--config", yaml, "--state-funs", "state.sls"}, "SALT CRITICAL - 1 failed"},
		{"result path from the environment", map[string]string{"SALTMAIL_RESULT_PATH": "nope"}, nil, "SALT CRITICAL - 1 failed"},
		{"an empty path is refused", map[string]string{"SALTMAIL_COMMENT_PATH": " "}, []string{"--comment-path", ""}, "comment_path (--comment-path, SALTMAIL_COMMENT_PATH): must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, event)
			f.Getenv = func(k string) string { return c.env[k] }
			Main(f, append([]string{"check"}, c.args...))
			if !strings.Contains(out.String()+errb.String(), c.want) {
				t.Errorf("got %q %q, want %q", out, errb, c.want)
			}
		})
	}
}

// Main refuses a Factory without default paths: a test that forgot them
// would otherwise read the host's /etc/salt and /var/spool.
func TestMainNeedsPaths(t *testing.T) {
	f, _, errb := fixedFactory(t, "")
	f.Paths = Paths{}
	if code := Main(f, []string{"check"}); code != 2 || !strings.Contains(errb.String(), "no default paths") {
		t.Errorf("exit %d: %s", code, errb)
	}
}

// Commands that only look create nothing: choosing the spool and the
// state dir is asking, not making.
func TestAskingCreatesNothing(t *testing.T) {
	failing := corpus("local/state.apply.failures.json.out")
	for _, args := range [][]string{
		{"check", failing},
		{"render", "--to", "ops@example.com", failing},
		{"flush", "--smtp-host", "127.0.0.1", "--smtp-port", "1"},
		{"--to", "ops@example.com", "--smtp-host", "127.0.0.1", "--smtp-port", "1", corpus("master/salt.test.ping.json.out")}, // nothing to send
		{"--to", "ops@example.com", "--smtp-host", "h", "--smtp-tls", "ssl", corpus("master/salt.test.ping.json.out")},        // a config error, nothing to keep
	} {
		f, _, errb := fixedFactory(t, "")
		root := filepath.Dir(filepath.Dir(f.Paths.ConfigFile))
		Main(f, args)
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("%v made %s/%s (stderr %q)", args, root, entries[0].Name(), errb)
		}
	}
}

// The default state dir is the one under the Factory's paths: a memory
// planted there is what render reads (so the host's never is).
func TestDefaultStateDirIsTheFactorys(t *testing.T) {
	capture := corpus("local/state.apply.failures.json.out")
	f, out, errb := fixedFactory(t, "")
	if code := Main(f, []string{"render", "--to", "ops@example.com", capture}); code != 0 || out.Len() == 0 {
		t.Fatalf("exit %d, %d bytes: %s", code, out.Len(), errb)
	}
	// Remember those failures as mailed an hour ago, where the default
	// state dir is: beside the Factory's default spool.
	v, err := filter.Evaluate(mustOpen(t, capture), "c", filter.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	renameLocal(v, "master1") // salt-call's "local", as saltmail reports it
	_, _, next := filter.Suppress(v, func(string) filter.Memory { return nil }, f.now().Add(-time.Hour), filter.Policy{RepeatInterval: 24 * time.Hour})
	store := &deliver.Memory[filter.Memory]{Dir: filepath.Join(filepath.Dir(f.Paths.SpoolDir), "saltmail-state")}
	if err := store.Update([]string{"master1"}, func(func(string) filter.Memory) map[string]filter.Memory { return next }); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := Main(f, []string{"render", "--to", "ops@example.com", capture}); code != 0 || out.Len() != 0 {
		t.Errorf("exit %d: the planted memory was not read; render printed %d bytes", code, out.Len())
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	return fh
}
