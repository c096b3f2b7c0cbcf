package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/saltmail/saltmail/watch"
	"go.yaml.in/yaml/v3"
)

// DefaultConfigFile is read when it exists and --config names no other.
const DefaultConfigFile = "/etc/salt/saltmail.yaml"

// loadConfig builds the configuration: defaults, then the YAML file,
// then SALTMAIL_* variables, then flags.
func loadConfig(cf *configFlags, f *Factory) (*Config, error) {
	getenv, warn := f.getenv, f.warn
	c := defaultConfig()
	path, explicit := cf.path, cf.path != ""
	if !explicit {
		path = f.Paths.ConfigFile
	}
	if err := loadYAML(c, path, explicit, warn); err != nil {
		return nil, err
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
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, first
		}
		return configErr(path, 0, "cannot read the config file: %v", err)
	}
	root, err := parseYAML(path, raw)
	if err != nil || root == nil {
		return err
	}
	hasPassword := false
	err = walkYAML(path, root, "", func(key string, k, v *yaml.Node) error {
		if key == "watch.expect" {
			return expectYAML(c, path, k, v)
		}
		s, ok := lookup(key)
		if !ok {
			return configErr(path, k.Line, "unknown key %s%s", key, didYouMean(key, append(settingKeys(), "watch.expect")))
		}
		hasPassword = hasPassword || key == "smtp.password"
		return setYAML(c, s, path, k, v)
	})
	if err != nil {
		return err
	}
	if hasPassword {
		warnReadable(path, "a password", warn)
	}
	return nil
}

// setYAML sets one setting from its YAML value: a scalar, or a list
// for the list settings (a rule may be a map).
func setYAML(c *Config, s setting, path string, k, v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		if err := s.set(c, v.Value, true); err != nil {
			return configErr(path, v.Line, "%v", err)
		}
	case yaml.SequenceNode:
		if _, isList := s.ptr(c).(*[]string); !isList {
			return configErr(path, k.Line, "%s takes one value, not a list", s.key)
		}
		for i, item := range v.Content {
			value := item.Value
			switch {
			case item.Kind == yaml.MappingNode && s.rules:
				var err error
				if value, err = ruleString(path, s.key, item); err != nil {
					return err
				}
			case item.Kind != yaml.ScalarNode:
				return configErr(path, item.Line, "%s: items must be plain values", s.key)
			}
			if err := s.set(c, value, i == 0); err != nil {
				return configErr(path, item.Line, "%v", err)
			}
		}
	default:
		return configErr(path, k.Line, "%s takes a value, not a map", s.key)
	}
	return nil
}

// walkYAML calls leaf for every key under the sections smtp, retry and
// watch and at the top, with its dotted name.
func walkYAML(path string, n *yaml.Node, prefix string, leaf func(string, *yaml.Node, *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return configErr(path, n.Line, "%sexpected a map of settings", strings.Replace(prefix, ".", ": ", 1))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if prefix == "" && (k.Value == "smtp" || k.Value == "retry" || k.Value == "watch") {
			if err := walkYAML(path, v, key+".", leaf); err != nil {
				return err
			}
			continue
		}
		if err := leaf(key, k, v); err != nil {
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
func ruleString(path, key string, n *yaml.Node) (string, error) {
	var parts []string
	cond := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return "", configErr(path, v.Line, "%s: %s takes a plain value", key, k.Value)
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

// settingKeys are the YAML keys, for suggestions.
func settingKeys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return keys
}

// expectYAML reads watch.expect, a list of dead-man rules such as
// {schedule: highstate, every: 1h, grace: 15m, minions: 'web*'}, and
// checks each before anything runs: a rule that can never be right
// (no schedule, no period, a bad glob) is the file's error, at its line.
func expectYAML(c *Config, path string, k, v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return configErr(path, k.Line, "watch.expect takes a list of rules ({schedule: highstate, every: 1h, grace: 15m, minions: '*'})")
	}
	c.Watch.Expect = nil
	for _, item := range v.Content {
		if item.Kind != yaml.MappingNode {
			return configErr(path, item.Line, "watch.expect: a rule is a map: {schedule: NAME, every: DURATION, grace: DURATION, minions: GLOB}")
		}
		r := watch.Rule{Minions: "*"}
		for i := 0; i+1 < len(item.Content); i += 2 {
			if err := expectField(&r, path, item.Content[i], item.Content[i+1]); err != nil {
				return err
			}
		}
		if r.Schedule == "" || r.Every <= 0 {
			return configErr(path, item.Line, "watch.expect: a rule needs schedule and a positive every")
		}
		c.Watch.Expect = append(c.Watch.Expect, r)
	}
	return nil
}

// expectField sets one field of a rule.
func expectField(r *watch.Rule, path string, k, v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return configErr(path, v.Line, "watch.expect: %s takes a plain value", k.Value)
	}
	var err error
	switch k.Value {
	case "schedule":
		r.Schedule = v.Value
	case "minions":
		r.Minions = v.Value
		_, err = filepath.Match(v.Value, "")
	case "every", "grace":
		d, perr := time.ParseDuration(v.Value)
		if err = perr; err == nil && d < 0 {
			err = fmt.Errorf("must not be negative")
		}
		if k.Value == "every" {
			r.Every = d
		} else {
			r.Grace = d
		}
	default:
		return configErr(path, k.Line, "watch.expect: unknown key %s%s", k.Value, didYouMean(k.Value, []string{"schedule", "every", "grace", "minions"}))
	}
	if err != nil {
		return configErr(path, v.Line, "watch.expect: %s: %v", k.Value, err)
	}
	return nil
}
