package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, mode os.FileMode, text string) string {
	p := filepath.Join(t.TempDir(), "saltmail.yaml")
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, env map[string]string, args ...string) (*Config, string, error) {
	t.Helper()
	f, _, errb := fixedFactory(t, "")
	f.Getenv = func(k string) string { return env[k] }
	var cf *configFlags
	c := newCmdRoot(f, func(o *SendOptions) error { cf = &o.Config; return nil })
	c.SetArgs(args)
	c.SetOut(&strings.Builder{})
	c.SetErr(&strings.Builder{})
	if err := c.Execute(); err != nil {
		return nil, "", err
	}
	cfg, err := loadConfig(cf, f)
	return cfg, errb.String(), err
}

func TestConfigPrecedence(t *testing.T) {
	path := writeConfig(t, 0o600, `
from: salt@example.com
to: [ops@example.com, dba@example.com]
subject: "[salt] {{.Summary}}"
spool_dir: /var/tmp/spool
smtp:
  host: yaml.example.com
  port: 2525
  tls: tls
  user: saltmail
  timeout: 30s
retry:
  attempts: 2
`)
	env := map[string]string{"SALTMAIL_SMTP_HOST": "env.example.com", "SALTMAIL_TO": "envops@example.com", "SALTMAIL_SMTP_PASSWORD": "pw"}
	c, _, err := load(t, env, "--config", path, "--smtp-port", "465", "--to", "flag@example.com", "--to", "flag2@example.com")
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]any{
		"from (yaml)":             {c.From, "salt@example.com"},
		"to (flags win)":          {strings.Join(c.To, ","), "flag@example.com,flag2@example.com"},
		"smtp.host (env wins)":    {c.SMTP.Host, "env.example.com"},
		"smtp.port (flag)":        {c.SMTP.Port, 465},
		"smtp.tls (yaml)":         {c.SMTP.TLS, "tls"},
		"smtp.timeout":            {c.SMTP.Timeout, 30 * time.Second},
		"password (env only)":     {c.SMTP.Password, "pw"},
		"retry.attempts":          {c.Retry.Attempts, 2},
		"retry.backoff (default)": {c.Retry.Backoff, 2 * time.Second},
		"spool_dir":               {c.SpoolDir, "/var/tmp/spool"},
		"subject":                 {c.Subject, "[salt] {{.Summary}}"},
	}
	for what, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s: %v, want %v", what, v[0], v[1])
		}
	}
}

// Every error of the file says path:line: first, so an editor can jump
// there; what yaml.v3 lets pass silently (a key twice, a second
// document, aliases) is refused. PATH stands for the file's path.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		args       []string
		want       string
	}{
		{"unknown key", "smtp:\n  hots: x\n", nil, "PATH:2: unknown key smtp.hots (did you mean smtp.host?)"},
		{"unknown top key", "recipients: [a@b.c]\n", nil, "PATH:1: unknown key recipients"},
		{"wrong type", "smtp:\n  port: twenty\n", nil, `PATH:2: smtp.port: "twenty" is not a whole number`},
		{"wrong type in a list", "retry:\n  attempts: 2\nstate_funs: [a, [b]]\n", nil, "PATH:3: state_funs: items must be plain values"},
		{"list for a scalar", "from: [a@b.c]\n", nil, "PATH:1: from takes one value, not a list"},
		{"map for a scalar", "to:\n  a: b\n", nil, "PATH:1: to takes a value, not a map"},
		{"not a map", "- a@b.c\n", nil, "PATH:1: expected a map of settings"},
		{"section not a map", "from: a@b.c\nsmtp: x\n", nil, "PATH:2: smtp: expected a map of settings"},
		{"bad rule", "ignore:\n  - function: [a]\n", nil, "PATH:2: ignore: function takes a plain value"},
		{"bad yaml", "smtp: [\n", nil, "PATH:1: did not find expected node content"},
		{"bad yaml without a line", "\tfrom: a@b.c\n", nil, "PATH: found character that cannot start any token"},
		{"duplicate key", "to: [a@b.c]\nfrom: x@y.z\nto: [d@e.f]\n", nil, "PATH:3: to is given twice (first at line 1)"},
		{"duplicate key under smtp", "smtp:\n  host: a\n  port: 25\n  host: b\n", nil, "PATH:4: smtp.host is given twice (first at line 2)"},
		{"duplicate section", "smtp:\n  host: a\nsmtp:\n  port: 25\n", nil, "PATH:3: smtp is given twice (first at line 1)"},
		{"duplicate key in a rule", "ignore:\n  - function: a\n    function: b\n", nil, "PATH:3: ignore.function is given twice (first at line 2)"},
		{"second document", "to: [a@b.c]\n---\nto: [d@e.f]\n", nil, "PATH:2: a second YAML document (---): a config file holds one"},
		{"empty second document", "to: [a@b.c]\n---\n", nil, "PATH:2: a second YAML document (---): a config file holds one"},
		{"anchor and alias", "smtp: &s\n  host: a\nretry: *s\n", nil, "PATH:1: anchors and aliases are not supported (&s): write the value out"},
		{"alias of a list item", "to: [&a a@b.c]\ncc: [*a]\n", nil, "PATH:1: anchors and aliases are not supported (&a): write the value out"},
		{"alias without anchor", "from: a@b.c\nto: [*f]\n", nil, "PATH:2: anchors and aliases are not supported (*f): write the value out"},
		{"merge key", "<<: {from: a@b.c}\n", nil, "PATH:1: merge keys (<<) are not supported: write the values out"},
		{"bad duration flag", "", []string{"--smtp-timeout", "10"}, `--smtp-timeout: smtp.timeout: "10" is not a duration (e.g. 10s)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, 0o600, c.yaml)
			_, _, err := load(t, nil, append([]string{"--config", path}, c.args...)...)
			if want := strings.ReplaceAll(c.want, "PATH", path); err == nil || err.Error() != want {
				t.Errorf("err %v\nwant %s", err, want)
			}
		})
	}
}

// A config file that cannot be read is named too; a missing default
// file is no error.
func TestConfigUnreadable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if _, _, err := load(t, nil, "--config", missing); err == nil || err.Error() != missing+": cannot read the config file: no such file or directory" {
		t.Errorf("err %v", err)
	}
	if _, _, err := load(t, nil); err != nil {
		t.Errorf("no default file: %v", err)
	}
}

// A good file still loads whole: a value that merely looks like an
// alias or a document marker is text.
func TestConfigLookalikes(t *testing.T) {
	path := writeConfig(t, 0o600, "subject: \"*x &y --- {{.Summary}}\"\nto: ['*ops*@example.com']\n")
	c, _, err := load(t, nil, "--config", path)
	if err != nil || c.Subject != "*x &y --- {{.Summary}}" || c.To[0] != "*ops*@example.com" {
		t.Errorf("err %v, config %+v", err, c)
	}
}

func TestConfigPasswordWarnings(t *testing.T) {
	path := writeConfig(t, 0o644, "smtp:\n  host: h\n  user: u\n  password: pw\n")
	_, stderr, err := load(t, nil, "--config", path)
	if err != nil || !strings.Contains(stderr, "holds a password and is readable by others (mode 0644)") {
		t.Errorf("err %v stderr %q", err, stderr)
	}
	path = writeConfig(t, 0o600, "smtp:\n  host: h\n  user: u\n  password: pw\n")
	if _, stderr, _ := load(t, nil, "--config", path); stderr != "" {
		t.Errorf("warned about a private file: %q", stderr)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from-file\n"), 0o600)
	c, _, err := load(t, nil, "--smtp-password-file", pwFile)
	if err != nil || c.SMTP.Password != "from-file" {
		t.Errorf("password file: %v %q", err, c.SMTP.Password)
	}
}

// The password has no flag: it would show in ps.
func TestNoPasswordFlag(t *testing.T) {
	f, _, errb := fixedFactory(t, "")
	if code := Main(f, []string{"--smtp-password", "x", "--to", "a@b.c"}); code != 2 || !strings.Contains(errb.String(), "unknown flag: --smtp-password") {
		t.Errorf("exit %d: %s", code, errb)
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--to", "a@example.com"}, "smtp.host (--smtp-host, SALTMAIL_SMTP_HOST): no SMTP server given (or set sendmail)"},
		{[]string{"--smtp-host", "h"}, "to (--to, SALTMAIL_TO): at least one recipient is needed"},
		{[]string{"--to", "a@example.com", "--smtp-host", "h", "--smtp-tls", "ssl"}, `smtp.tls (--smtp-tls, SALTMAIL_SMTP_TLS): "ssl" is not one of starttls, tls, none`},
		{[]string{"--to", "not an address", "--smtp-host", "h"}, `to (--to, SALTMAIL_TO): "not an address"`},
		{[]string{"--to", "a@example.com", "--smtp-host", "h", "--retry-attempts", "0"}, "retry.attempts (--retry-attempts, SALTMAIL_RETRY_ATTEMPTS): must be at least 1"},
	}
	for _, c := range cases {
		f, _, errb := fixedFactory(t, `{"m": "Minion did not return"}`)
		code := Main(f, c.args)
		if code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errb, c.want)
		}
	}
	// tls none with a password to a remote host is refused.
	f, _, errb := fixedFactory(t, "")
	f.Getenv = func(k string) string { return map[string]string{"SALTMAIL_SMTP_PASSWORD": "pw"}[k] }
	if code := Main(f, []string{"--to", "a@example.com", "--smtp-host", "smtp.example.com", "--smtp-tls", "none", "--smtp-user", "u"}); code != 2 || !strings.Contains(errb.String(), "in clear") {
		t.Errorf("exit %d: %s", code, errb)
	}
}
