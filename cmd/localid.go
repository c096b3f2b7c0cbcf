package cmd

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/saltmail/saltmail/filter"
	"go.yaml.in/yaml/v3"
)

// localID is the id to report for the minion salt-call names "local":
// the minion_id setting; else the minion's own, from the minion_id file
// or the id: of the minion config in dir (Salt's config directory);
// else the host name (Salt's own default).
func localID(cfg *Config, dir, host string) string {
	if cfg.MinionID != "" {
		return cfg.MinionID
	}
	if b, err := os.ReadFile(filepath.Join(dir, "minion_id")); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "minion")); err == nil {
		var conf struct {
			ID string `yaml:"id"`
		}
		if yaml.Unmarshal(b, &conf) == nil && conf.ID != "" {
			return conf.ID
		}
	}
	return host
}

// configDir is the config directory a salt command was given (-c DIR,
// --config-dir DIR or --config-dir=DIR), or def.
func configDir(command []string, def string) string {
	for i, a := range command {
		switch {
		case (a == "-c" || a == "--config-dir") && i+1 < len(command):
			return command[i+1]
		case strings.HasPrefix(a, "--config-dir="):
			return strings.TrimPrefix(a, "--config-dir=")
		case strings.HasPrefix(a, "-c") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			return a[2:]
		}
	}
	return def
}

// renameLocal reports salt-call's minion "local" under its own id, so
// that subject, body, headers and the memory name the right machine.
func renameLocal(v *filter.Verdict, id string) {
	for i := range v.Results {
		if v.Results[i].ID == "local" {
			v.Results[i].ID = id
		}
	}
}
