package cmd

import (
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/filter"
)

// resolved is the configuration of one run, resolved and checked in one
// place before any input is read or anything is sent: a bad setting
// fails here, naming it, and nothing else has happened. A command
// resolves the groups of settings it uses (configFlags.uses), no more:
// check needs no recipient.
type resolved struct {
	cfg   *Config
	host  string
	input filter.Options // useInput, useRules
	// localID is the id reported for salt-call's minion "local".
	localID string
	mail    *mailPlan     // useAddresses, useMail
	send    *delivery     // useTransport
	spool   deliver.Spool // useSpool
	// memory is the state dir's record of what was reported (useMemory).
	memory memory
	policy filter.Policy
}

// memory is what saltmail remembers of each minion: recalled for a
// preview, or read and rewritten under the minions' locks.
type memory interface {
	Recall(minion string) filter.Memory
	Update(minions []string, decide func(recall func(string) filter.Memory) map[string]filter.Memory) error
}

// resolve loads the configuration (defaults < YAML < environment <
// flags) and checks the parts the command uses. trace, when set, hears
// each SMTP step (test-mail).
func resolve(f *Factory, cf *configFlags, trace func(step, detail string)) (*resolved, error) {
	cfg, err := loadConfig(cf, f)
	if err != nil {
		return nil, err
	}
	r := &resolved{cfg: cfg, host: f.hostname(), input: filter.DefaultOptions()}
	u := cf.uses
	if u&useInput != 0 {
		if r.input, err = cfg.inputOptions(); err != nil {
			return nil, err
		}
	}
	// filter is pure and does not ask the process: read on every core.
	r.input.Procs = runtime.GOMAXPROCS(0)
	r.localID = localID(cfg, f.Paths.SaltConfigDir, r.host)
	if u&useRules != 0 {
		if r.input.Rules, err = cfg.rules(); err != nil {
			return nil, err
		}
	}
	if u&useAddresses != 0 {
		if r.mail, err = cfg.mailPlan(r.host, u&useMail != 0); err != nil {
			return nil, err
		}
	}
	if u&useTransport != 0 {
		if r.send, err = cfg.delivery(r.host, trace); err != nil {
			return nil, err
		}
	}
	if u&(useSpool|useMemory) != 0 {
		r.spool = cfg.spool(f.Paths)
	}
	if u&useMemory != 0 {
		r.memory, r.policy = cfg.memory(r.spool, f.warn), cfg.policy()
		r.input.KeepSucceeded = true // so that Suppress can see failures resolve
	}
	if err := r.checkDirs(); err != nil {
		if u&useTransport != 0 {
			return nil, err
		}
		// A preview (render) only reads the memory, to leave out what
		// was reported: root previewing on a master whose state dir is
		// the salt user's must not be refused. It previews without it.
		f.warn(fmt.Sprintf("%v; previewing without the memory of what was reported", err))
		r.memory = nil
	}
	return r, nil
}

// DefaultMaxValue bounds one minion's return: far above any real
// highstate's, low enough that a hostile or runaway one (a 2 GB
// comment) cannot take the master's memory.
const DefaultMaxValue = 64 << 20

// inputOptions say how to read Salt output.
func (c *Config) inputOptions() (filter.Options, error) {
	o := filter.DefaultOptions()
	for _, p := range []struct {
		key  string
		path *string
		val  string
	}{{"result_path", &o.ResultPath, c.ResultPath}, {"changes_path", &o.ChangesPath, c.ChangesPath}, {"comment_path", &o.CommentPath, c.CommentPath}} {
		if p.val == "" {
			return o, fmt.Errorf("%s: must not be empty", names(p.key))
		}
		*p.path = p.val
	}
	if len(c.StateFuns) == 0 {
		return o, fmt.Errorf("%s: name at least one function", names("state_funs"))
	}
	o.StateFuns = append([]string(nil), c.StateFuns...)
	if c.MaxValueBytes <= 0 {
		return o, fmt.Errorf("%s: must be positive", names("max_value_bytes"))
	}
	o.MaxValueBytes = c.MaxValueBytes
	return o, nil
}

// rules parses the ignore and ignore_changes rules; a bad one names its
// setting.
func (c *Config) rules() ([]filter.Rule, error) {
	var out []filter.Rule
	for _, set := range []struct {
		key   string
		kind  filter.RuleKind
		rules []string
	}{{"ignore", filter.Ignore, c.Ignore}, {"ignore_changes", filter.IgnoreChanges, c.IgnoreChanges}} {
		for _, s := range set.rules {
			r, err := filter.ParseRule(set.kind, s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", names(set.key), err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// memory is the store of what was reported, in state_dir (default:
// saltmail-state beside the spool). Nothing is created until it is
// written; if it cannot be, every alert is mailed, which is better than
// none.
func (c *Config) memory(sp deliver.Spool, warn func(string)) memory {
	return &deliver.Memory[filter.Memory]{Dir: c.stateDir(sp), Warn: warn}
}

// stateDir is state_dir, or saltmail-state beside the spool.
func (c *Config) stateDir(sp deliver.Spool) string {
	if c.StateDir != "" {
		return c.StateDir
	}
	return filepath.Join(filepath.Dir(sp.Dir), "saltmail-state")
}

func (c *Config) policy() filter.Policy {
	return filter.Policy{RepeatInterval: c.RepeatInterval, SendResolved: c.SendResolved, SuppressChanges: c.SuppressChanges, ForgetAfter: c.ForgetAfter}
}
