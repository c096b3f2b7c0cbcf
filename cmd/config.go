package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

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
		s, ok := lookup(key)
		if !ok {
			return configErr(path, k.Line, "unknown key %s%s", key, didYouMean(key, settingKeys()))
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

// walkYAML calls leaf for every key under the sections smtp and retry
// and at the top, with its dotted name.
func walkYAML(path string, n *yaml.Node, prefix string, leaf func(string, *yaml.Node, *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return configErr(path, n.Line, "%sexpected a map of settings", strings.Replace(prefix, ".", ": ", 1))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if prefix == "" && (k.Value == "smtp" || k.Value == "retry") {
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
