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
