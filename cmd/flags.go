package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// configFlags are the configuration's flags of one command: --config and
// one flag per setting the command uses. Each flag records its uses as
// given, to be applied over the file and the environment (loadConfig).
type configFlags struct {
	uses    uses
	path    string
	records []flagRecord
}

type flagRecord struct {
	key  string
	vals *[]string
}

// settingFlag is a setting's flag: typed for --help, with the row's
// default shown, and recording each use in order.
type settingFlag struct {
	s    setting
	vals *[]string
	def  string
}

func (f *settingFlag) Set(v string) error { *f.vals = append(*f.vals, v); return nil }

// String is the default: pflag shows it as "(default ...)".
func (f *settingFlag) String() string { return f.def }

// Type names the setting's type in --help: "--smtp-timeout duration".
func (f *settingFlag) Type() string {
	switch f.s.ptr(&Config{}).(type) {
	case *bool:
		return "bool"
	case *int:
		return "int"
	case *time.Duration:
		return "duration"
	case *[]string:
		if f.s.rules {
			return "rule"
		}
		return "strings"
	}
	return "string"
}

// IsBoolFlag lets a bool setting be given as a bare --per-minion.
func (f *settingFlag) IsBoolFlag() bool { return f.Type() == "bool" }

// addConfigFlags registers --config and the flags of the settings in
// the groups u; cf remembers them.
func addConfigFlags(fs *pflag.FlagSet, cf *configFlags, u uses) {
	cf.uses = u
	fs.StringVar(&cf.path, "config", "", "YAML config file (default "+DefaultConfigFile+" when it exists)")
	for _, s := range settings {
		if s.noFlag || s.use&u == 0 {
			continue
		}
		r := flagRecord{key: s.key, vals: new([]string)}
		cf.records = append(cf.records, r)
		sf := &settingFlag{s: s, vals: r.vals, def: s.def}
		fs.Var(sf, s.flag(), s.help)
		if sf.IsBoolFlag() {
			fs.Lookup(s.flag()).NoOptDefVal = "true"
		}
	}
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
