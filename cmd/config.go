package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/saltmail/saltmail/report"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// DefaultConfigFile is read when it exists and --config names no other.
const DefaultConfigFile = "/etc/salt/saltmail.yaml"

// Config is everything about making and delivering mail. One mapping
// serves everywhere: YAML key smtp.host = env SALTMAIL_SMTP_HOST = flag
// --smtp-host; later sources win (YAML < environment < flags).
type Config struct {
	From         string
	To, Cc, Bcc  []string
	Subject      string
	PerMinion    bool
	AttachJSON   bool
	MaxPartBytes int
	Sendmail     string
	SpoolDir     string
	SMTP         struct {
		Host               string
		Port               int
		TLS                string
		User               string
		Password           string
		PasswordFile       string
		HELO               string
		CAFile             string
		InsecureSkipVerify bool
		Timeout            time.Duration
	}
	Retry struct {
		Attempts int
		Backoff  time.Duration
	}
	On              []string
	Ignore          []string // rules, "key=glob,..." each
	IgnoreChanges   []string
	StateDir        string
	RepeatInterval  time.Duration
	SendResolved    bool
	SuppressChanges bool
}

func defaultConfig() *Config {
	c := &Config{MaxPartBytes: report.DefaultPartLimit}
	c.SMTP.TLS = "starttls"
	c.SMTP.Timeout = 10 * time.Second
	c.Retry.Attempts = 4
	c.Retry.Backoff = 2 * time.Second
	c.On = []string{"failed", "changed", "pending", "error"}
	c.RepeatInterval = 24 * time.Hour
	c.SendResolved = true
	return c
}

// setting is one row of the mapping. Its flag and environment names
// derive from its key; noFlag keeps the password off the command line,
// where ps would show it.
type setting struct {
	key    string
	ptr    func(*Config) any
	usage  string
	noFlag bool
	// rules: each flag use or YAML item is one value (rules hold
	// commas); the environment separates them with ";".
	rules bool
}

func (s setting) flag() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.key)
}

func (s setting) env() string {
	return "SALTMAIL_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

var settings = []setting{
	{key: "from", ptr: func(c *Config) any { return &c.From }, usage: "sender address (default saltmail@<hostname>)"},
	{key: "to", ptr: func(c *Config) any { return &c.To }, usage: "recipient; repeatable and comma-separated"},
	{key: "cc", ptr: func(c *Config) any { return &c.Cc }, usage: "copy recipient; repeatable and comma-separated"},
	{key: "bcc", ptr: func(c *Config) any { return &c.Bcc }, usage: "blind copy recipient (envelope only); repeatable and comma-separated"},
	{key: "subject", ptr: func(c *Config) any { return &c.Subject }, usage: "subject as a Go text/template (README: Subject)"},
	{key: "per_minion", ptr: func(c *Config) any { return &c.PerMinion }, usage: "one mail per minion instead of one digest"},
	{key: "attach_json", ptr: func(c *Config) any { return &c.AttachJSON }, usage: "always attach the verdict as JSON"},
	{key: "max_part_bytes", ptr: func(c *Config) any { return &c.MaxPartBytes }, usage: "bound of each body part; larger state blocks are cut"},
	{key: "sendmail", ptr: func(c *Config) any { return &c.Sendmail }, usage: "deliver through this sendmail program instead of SMTP"},
	{key: "spool_dir", ptr: func(c *Config) any { return &c.SpoolDir }, usage: "where undeliverable mail waits for flush (default /var/spool/saltmail)"},
	{key: "smtp.host", ptr: func(c *Config) any { return &c.SMTP.Host }, usage: "SMTP server"},
	{key: "smtp.port", ptr: func(c *Config) any { return &c.SMTP.Port }, usage: "SMTP port (default 587 for starttls, 465 for tls, 25 for none)"},
	{key: "smtp.tls", ptr: func(c *Config) any { return &c.SMTP.TLS }, usage: "starttls (required upgrade), tls (implicit) or none"},
	{key: "smtp.user", ptr: func(c *Config) any { return &c.SMTP.User }, usage: "SMTP user (the password comes from SALTMAIL_SMTP_PASSWORD or a password file)"},
	{key: "smtp.password", ptr: func(c *Config) any { return &c.SMTP.Password }, noFlag: true},
	{key: "smtp.password_file", ptr: func(c *Config) any { return &c.SMTP.PasswordFile }, usage: "file holding the SMTP password"},
	{key: "smtp.helo", ptr: func(c *Config) any { return &c.SMTP.HELO }, usage: "name to greet the server with (default: the host name)"},
	{key: "smtp.ca_file", ptr: func(c *Config) any { return &c.SMTP.CAFile }, usage: "PEM file of the CA that signed the server's certificate"},
	{key: "smtp.insecure_skip_verify", ptr: func(c *Config) any { return &c.SMTP.InsecureSkipVerify }, usage: "do not verify the server's certificate (test setups only)"},
	{key: "smtp.timeout", ptr: func(c *Config) any { return &c.SMTP.Timeout }, usage: "deadline of each step: connect, greeting, every command, every DATA write"},
	{key: "retry.attempts", ptr: func(c *Config) any { return &c.Retry.Attempts }, usage: "tries in all for a temporary failure"},
	{key: "retry.backoff", ptr: func(c *Config) any { return &c.Retry.Backoff }, usage: "wait before the second try; doubles each time"},
	{key: "on", ptr: func(c *Config) any { return &c.On }, usage: "outcomes that mail: failed, changed, pending, error"},
	{key: "ignore", ptr: func(c *Config) any { return &c.Ignore }, rules: true, usage: "drop matching states from the report: minion=GLOB,id=GLOB,name=GLOB,function=GLOB,sls=GLOB,if=GJSON-CONDITION; repeatable"},
	{key: "ignore_changes", ptr: func(c *Config) any { return &c.IgnoreChanges }, rules: true, usage: "report matching states only when they fail, not when they merely change (same keys as --ignore); repeatable"},
	{key: "state_dir", ptr: func(c *Config) any { return &c.StateDir }, usage: "where saltmail remembers what it reported (default: saltmail-state next to the spool)"},
	{key: "repeat_interval", ptr: func(c *Config) any { return &c.RepeatInterval }, usage: "an identical failure is not mailed again within this time (0: always mail)"},
	{key: "send_resolved", ptr: func(c *Config) any { return &c.SendResolved }, usage: "mail when a state that failed succeeds again"},
	{key: "suppress_changes", ptr: func(c *Config) any { return &c.SuppressChanges }, usage: "suppress identical changes within repeat_interval too"},
}

func lookup(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// set parses one value into the setting; lists take a comma-separated
// string (and YAML lists arrive item by item, with replace false).
func (s setting) set(c *Config, v string, replace bool) error {
	switch p := s.ptr(c).(type) {
	case *string:
		*p = v
	case *[]string:
		if replace {
			*p = nil
		}
		if s.rules {
			if v = strings.TrimSpace(v); v != "" {
				*p = append(*p, v)
			}
			return nil
		}
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*p = append(*p, part)
			}
		}
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", s.key, v)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", s.key, v)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration (e.g. 10s)", s.key, v)
		}
		*p = d
	}
	return nil
}

// configFlags collects what was given on the command line, so that it
// can be applied last, over the file and the environment.
type configFlags struct {
	path    string
	records []flagRecord
}

type flagRecord struct {
	key  string
	vals *[]string
}

// recordValue keeps every use of a flag, in order.
type recordValue struct{ vals *[]string }

func (r recordValue) Set(s string) error { *r.vals = append(*r.vals, s); return nil }
func (r recordValue) String() string     { return "" }
func (r recordValue) Type() string       { return "value" }

// addConfigFlags registers --config and one flag per setting.
func addConfigFlags(fs *pflag.FlagSet, cf *configFlags) {
	fs.StringVar(&cf.path, "config", "", "YAML config file (default "+DefaultConfigFile+" when it exists)")
	c := defaultConfig()
	for _, s := range settings {
		if s.noFlag {
			continue
		}
		r := flagRecord{key: s.key, vals: new([]string)}
		cf.records = append(cf.records, r)
		fs.Var(recordValue{r.vals}, s.flag(), s.usage)
		if _, isBool := s.ptr(c).(*bool); isBool {
			fs.Lookup(s.flag()).NoOptDefVal = "true"
		}
	}
}

// loadConfig builds the configuration: defaults, then the YAML file,
// then SALTMAIL_* variables, then flags.
func loadConfig(cf *configFlags, f *Factory) (*Config, error) {
	getenv, warn := f.getenv, f.warn
	c := defaultConfig()
	path, explicit := cf.path, cf.path != ""
	if !explicit {
		path = DefaultConfigFile
	}
	if explicit || !f.NoDefaultConfig {
		if err := loadYAML(c, path, explicit, warn); err != nil {
			return nil, err
		}
	}
	for _, s := range settings {
		v := getenv(s.env())
		if v == "" {
			continue
		}
		values := []string{v}
		if s.rules {
			values = strings.Split(v, ";")
		}
		for i, one := range values {
			if err := s.set(c, one, i == 0); err != nil {
				return nil, fmt.Errorf("%s: %w", s.env(), err)
			}
		}
	}
	for _, r := range cf.records {
		for i, v := range *r.vals {
			s, _ := lookup(r.key)
			if err := s.set(c, v, i == 0); err != nil {
				return nil, fmt.Errorf("--%s: %w", s.flag(), err)
			}
		}
	}
	if c.SMTP.PasswordFile != "" && c.SMTP.Password == "" {
		b, err := os.ReadFile(c.SMTP.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("smtp.password_file: %w", err)
		}
		c.SMTP.Password = strings.TrimRight(string(b), "\r\n")
		warnReadable(c.SMTP.PasswordFile, "a password", warn)
	}
	return c, nil
}

func loadYAML(c *Config, path string, explicit bool, warn func(string)) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file
	}
	hasPassword := false
	err = walkYAML(doc.Content[0], "", func(key string, n *yaml.Node) error {
		s, ok := lookup(key)
		if !ok {
			return fmt.Errorf("config %s: line %d: unknown key %s", path, n.Line, key)
		}
		if key == "smtp.password" {
			hasPassword = true
		}
		switch {
		case n.Kind == yaml.ScalarNode:
			if err := s.set(c, n.Value, true); err != nil {
				return fmt.Errorf("config %s: line %d: %w", path, n.Line, err)
			}
		case n.Kind == yaml.SequenceNode:
			if _, isList := s.ptr(c).(*[]string); !isList {
				return fmt.Errorf("config %s: line %d: %s takes one value, not a list", path, n.Line, key)
			}
			for i, item := range n.Content {
				if item.Kind == yaml.MappingNode && s.rules {
					rule, err := ruleString(item)
					if err != nil {
						return fmt.Errorf("config %s: line %d: %s: %w", path, item.Line, key, err)
					}
					s.set(c, rule, i == 0)
					continue
				}
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("config %s: line %d: %s: items must be plain values", path, item.Line, key)
				}
				if err := s.set(c, item.Value, i == 0); err != nil {
					return fmt.Errorf("config %s: line %d: %w", path, item.Line, err)
				}
			}
		default:
			return fmt.Errorf("config %s: line %d: %s takes a value, not a map", path, n.Line, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if hasPassword {
		warnReadable(path, "a password", warn)
	}
	return nil
}

// walkYAML calls leaf for every key under the sections smtp and retry
// and at the top, with its dotted name.
func walkYAML(n *yaml.Node, prefix string, leaf func(string, *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("config: line %d: expected a map of settings", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if prefix == "" && (k.Value == "smtp" || k.Value == "retry") {
			if err := walkYAML(v, key+".", leaf); err != nil {
				return err
			}
			continue
		}
		if err := leaf(key, v); err != nil {
			return err
		}
	}
	return nil
}

func warnReadable(path, what string, warn func(string)) {
	st, err := os.Stat(path)
	if err == nil && st.Mode().Perm()&0o044 != 0 {
		warn(fmt.Sprintf("%s holds %s and is readable by others (mode %04o); chmod 600 it", path, what, st.Mode().Perm()))
	}
}

// ruleString turns a YAML rule ({function: cmd.run, if: ...}) into the
// flag form, the condition last since it may hold commas.
func ruleString(n *yaml.Node) (string, error) {
	var parts []string
	cond := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("line %d: %s takes a plain value", v.Line, k.Value)
		}
		if k.Value == "if" {
			cond = "if=" + v.Value
			continue
		}
		parts = append(parts, k.Value+"="+v.Value)
	}
	if cond != "" {
		parts = append(parts, cond)
	}
	return strings.Join(parts, ","), nil
}
