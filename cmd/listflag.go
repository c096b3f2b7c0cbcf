package cmd

import (
	"strings"

	"github.com/spf13/pflag"
)

// listValue is a repeatable, comma-separated flag. pflag's StringSlice
// reads its value as CSV and silently drops everything after a line
// break; this keeps every byte, so a bad value fails validation loudly.
type listValue struct {
	list    *[]string
	changed bool
}

func (l *listValue) Set(s string) error {
	if !l.changed {
		*l.list = nil // the first use replaces the default
		l.changed = true
	}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l.list = append(*l.list, part)
		}
	}
	return nil
}

func (l *listValue) String() string { return strings.Join(*l.list, ",") }

func (l *listValue) Type() string { return "list" }

func listVar(fs *pflag.FlagSet, p *[]string, name, usage string) {
	fs.Var(&listValue{list: p}, name, usage)
}
