package cmd

import (
	"strconv"
	"strings"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
	"github.com/saltmail/saltmail/watch"
)

// Config is saltmail's one configuration: every setting of every
// command, typed. It is built in one place (loadConfig) from the rows
// of settings: defaults < YAML < SALTMAIL_* environment < flags.
type Config struct {
	From         string
	To, Cc, Bcc  []string
	Subject      string
	PerMinion    bool
	AttachJSON   bool
	MaxPartBytes int
	// MaxValueBytes bounds one minion's return in the input.
	MaxValueBytes int
	On            []string
	Sendmail      string
	SpoolDir      string
	SMTP          struct {
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
	Ignore, IgnoreChanges []string // rules, "key=glob,..." each
	StateDir              string
	RepeatInterval        time.Duration
	SendResolved          bool
	SuppressChanges       bool
	ForgetAfter           time.Duration
	StateFuns             []string
	ResultPath            string
	ChangesPath           string
	CommentPath           string
	MinionID              string
	Watch                 struct {
		EventCommand                         string
		JobTimeout, GroupWait, GroupInterval time.Duration
		KeysCommand, RunnerCommand           string
		FindJobCommand                       string
		// Expect is YAML only (a list of maps): the dead-man rules.
		Expect []watch.Rule
	}
}

// uses is a set of setting groups. A command registers the flags of the
// groups it uses, and resolves only those parts of the configuration.
type uses int

const (
	useInput     uses = 1 << iota // how to read Salt output
	useRules                      // ignore rules (check's status follows them)
	useAddresses                  // sender and recipients
	useMail                       // how the report mail looks, and when it goes
	useTransport                  // SMTP or sendmail, and retries
	useSpool                      // where undeliverable mail waits
	useMemory                     // repeat suppression: the state dir
	useWatch                      // saltmail watch: the bus, deadlines, windows
)

// setting is one row of the configuration: its YAML key (flag and
// environment names derive from it: smtp.ca_file is --smtp-ca-file and
// SALTMAIL_SMTP_CA_FILE), the field it sets (whose type is the
// setting's type), its default (parsed like any value; "" when there is
// none, or it depends on other settings, as the help then says), help,
// and the group it belongs to.
type setting struct {
	key  string
	ptr  func(*Config) any
	def  string
	help string
	use  uses
	// noFlag keeps the password off the command line, where ps shows it.
	noFlag bool
	// rules: each flag use or YAML item is one value (rules hold
	// commas); the environment separates them with ";".
	rules bool
	// flagName replaces the derived flag name (watch.job_timeout is
	// --job-timeout: the issue that made watch named them so).
	flagName string
}

func (s setting) flag() string {
	if s.flagName != "" {
		return s.flagName
	}
	return strings.NewReplacer(".", "-", "_", "-").Replace(s.key)
}

func (s setting) env() string {
	return "SALTMAIL_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

const ruleHelp = "minion=GLOB,id=GLOB,name=GLOB,function=GLOB,sls=GLOB,if=GJSON-CONDITION; repeatable"

var settings = []setting{
	{key: "state_funs", ptr: func(c *Config) any { return &c.StateFuns }, use: useInput, def: strings.Join(filter.DefaultOptions().StateFuns, ","), help: "job functions whose returns are state runs (replaces the list)"},
	{key: "result_path", ptr: func(c *Config) any { return &c.ResultPath }, use: useInput, def: "result", help: "gjson path of a state's result"},
	{key: "changes_path", ptr: func(c *Config) any { return &c.ChangesPath }, use: useInput, def: "changes", help: "gjson path of a state's changes"},
	{key: "comment_path", ptr: func(c *Config) any { return &c.CommentPath }, use: useInput, def: "comment", help: "gjson path of a state's comment"},
	{key: "max_value_bytes", ptr: func(c *Config) any { return &c.MaxValueBytes }, use: useInput, def: strconv.Itoa(DefaultMaxValue), help: "bound of one minion's return in the input; a larger one is an input error (exit 3)"},
	{key: "minion_id", ptr: func(c *Config) any { return &c.MinionID }, use: useInput, help: "the id to report for salt-call's minion \"local\" (default: minion_id or id: in the Salt config dir, else the host name)"},

	{key: "ignore", ptr: func(c *Config) any { return &c.Ignore }, use: useRules, rules: true, help: "drop matching states from the report: " + ruleHelp},
	{key: "ignore_changes", ptr: func(c *Config) any { return &c.IgnoreChanges }, use: useRules, rules: true, help: "report matching states only when they fail, not when they merely change: " + ruleHelp},

	{key: "from", ptr: func(c *Config) any { return &c.From }, use: useAddresses, help: "sender address (default saltmail@<hostname>)"},
	{key: "to", ptr: func(c *Config) any { return &c.To }, use: useAddresses, help: "recipient; repeatable and comma-separated (required)"},
	{key: "cc", ptr: func(c *Config) any { return &c.Cc }, use: useAddresses, help: "copy recipient; repeatable and comma-separated"},
	{key: "bcc", ptr: func(c *Config) any { return &c.Bcc }, use: useAddresses, help: "blind copy recipient (envelope only); repeatable and comma-separated"},

	{key: "subject", ptr: func(c *Config) any { return &c.Subject }, use: useMail, help: "subject as a Go text/template (default: README, Subject)"},
	{key: "per_minion", ptr: func(c *Config) any { return &c.PerMinion }, use: useMail, def: "false", help: "one mail per minion instead of one digest"},
	{key: "attach_json", ptr: func(c *Config) any { return &c.AttachJSON }, use: useMail, def: "false", help: "always attach the verdict as JSON"},
	{key: "max_part_bytes", ptr: func(c *Config) any { return &c.MaxPartBytes }, use: useMail, def: strconv.Itoa(report.DefaultPartLimit), help: "bound of each body part; larger state blocks are cut"},
	{key: "on", ptr: func(c *Config) any { return &c.On }, use: useMail, def: "failed,changed,pending,error", help: "outcomes that mail: failed, changed, pending, error"},

	{key: "sendmail", ptr: func(c *Config) any { return &c.Sendmail }, use: useTransport, help: "deliver through this sendmail program instead of SMTP"},
	{key: "smtp.host", ptr: func(c *Config) any { return &c.SMTP.Host }, use: useTransport, help: "SMTP server (required unless sendmail is set)"},
	{key: "smtp.port", ptr: func(c *Config) any { return &c.SMTP.Port }, use: useTransport, help: "SMTP port (default 587 for starttls, 465 for tls, 25 for none)"},
	{key: "smtp.tls", ptr: func(c *Config) any { return &c.SMTP.TLS }, use: useTransport, def: "starttls", help: "starttls (required upgrade), tls (implicit) or none"},
	{key: "smtp.user", ptr: func(c *Config) any { return &c.SMTP.User }, use: useTransport, help: "SMTP user (the password comes from SALTMAIL_SMTP_PASSWORD or a password file)"},
	{key: "smtp.password", ptr: func(c *Config) any { return &c.SMTP.Password }, use: useTransport, noFlag: true},
	{key: "smtp.password_file", ptr: func(c *Config) any { return &c.SMTP.PasswordFile }, use: useTransport, help: "file holding the SMTP password"},
	{key: "smtp.helo", ptr: func(c *Config) any { return &c.SMTP.HELO }, use: useTransport, help: "name to greet the server with (default: the host name)"},
	{key: "smtp.ca_file", ptr: func(c *Config) any { return &c.SMTP.CAFile }, use: useTransport, help: "PEM file of the CA that signed the server's certificate (default: the system's CAs)"},
	{key: "smtp.insecure_skip_verify", ptr: func(c *Config) any { return &c.SMTP.InsecureSkipVerify }, use: useTransport, def: "false", help: "do not verify the server's certificate (test setups only)"},
	{key: "smtp.timeout", ptr: func(c *Config) any { return &c.SMTP.Timeout }, use: useTransport, def: "10s", help: "deadline of each step (connect, greeting, every command, every DATA write); six of them bound one whole try"},
	{key: "retry.attempts", ptr: func(c *Config) any { return &c.Retry.Attempts }, use: useTransport, def: "4", help: "tries in all for a temporary failure"},
	{key: "retry.backoff", ptr: func(c *Config) any { return &c.Retry.Backoff }, use: useTransport, def: "2s", help: "wait before the second try; doubles each time"},
	{key: "spool_dir", ptr: func(c *Config) any { return &c.SpoolDir }, use: useSpool, help: "where undeliverable mail waits for flush (default /var/spool/saltmail, else ~/.local/state/saltmail/spool)"},

	{key: "state_dir", ptr: func(c *Config) any { return &c.StateDir }, use: useMemory, help: "where saltmail remembers what it reported (default: saltmail-state next to the spool)"},
	{key: "repeat_interval", ptr: func(c *Config) any { return &c.RepeatInterval }, use: useMemory, def: "24h", help: "an identical failure is not mailed again within this time (0: always mail)"},
	{key: "send_resolved", ptr: func(c *Config) any { return &c.SendResolved }, use: useMemory, def: "true", help: "mail when a state that failed succeeds again"},
	{key: "suppress_changes", ptr: func(c *Config) any { return &c.SuppressChanges }, use: useMemory, def: "false", help: "suppress identical changes within repeat_interval too"},
	{key: "watch.event_command", flagName: "event-command", ptr: func(c *Config) any { return &c.Watch.EventCommand }, use: useWatch, def: DefaultEventCommand, help: "the command that prints the master's events, one TAG<TAB>JSON line each"},
	{key: "watch.job_timeout", flagName: "job-timeout", ptr: func(c *Config) any { return &c.Watch.JobTimeout }, use: useWatch, def: "1h", help: "how long a job's digest waits for minions that have not returned"},
	{key: "watch.group_wait", flagName: "group-wait", ptr: func(c *Config) any { return &c.Watch.GroupWait }, use: useWatch, def: "30s", help: "how long returns with no announced job (schedule, salt-call) wait to go in one mail"},
	{key: "watch.group_interval", flagName: "group-interval", ptr: func(c *Config) any { return &c.Watch.GroupInterval }, use: useWatch, def: "5m", help: "the least time between two mails of such returns"},
	{key: "watch.keys_command", flagName: "keys-command", ptr: func(c *Config) any { return &c.Watch.KeysCommand }, use: useWatch, def: DefaultKeysCommand, help: "the command that lists the master's keys as JSON (the known minions of watch.expect)"},
	{key: "watch.runner_command", flagName: "runner-command", ptr: func(c *Config) any { return &c.Watch.RunnerCommand }, use: useWatch, def: "salt-run", help: "the salt-run that asks the job cache after each start of the event command (default: the event command's own, when it is salt-run)"},
	{key: "watch.find_job_command", flagName: "find-job-command", ptr: func(c *Config) any { return &c.Watch.FindJobCommand }, use: useWatch, def: DefaultFindJobCommand, help: "the salt that asks, at a job's job_timeout, the minions that did not return whether they still run it; the minions and saltutil.find_job <jid> are appended; a bare salt is the event command's own, with its -c, when that is a salt-run; empty: ask no one"},
	{key: "forget_after", ptr: func(c *Config) any { return &c.ForgetAfter }, use: useMemory, def: "720h", help: "forget a remembered state not seen in a run for this long (a state that no longer exists); 0: never"},
}

func lookup(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// defaultConfig is every setting at its row's default.
func defaultConfig() *Config {
	c := &Config{}
	for _, s := range settings {
		if s.def != "" {
			if err := s.set(c, s.def, true); err != nil {
				panic("settings: bad default of " + s.key + ": " + err.Error())
			}
		}
	}
	return c
}
