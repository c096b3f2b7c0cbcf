package cmd

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/saltmail/saltmail/filter"
	"github.com/spf13/pflag"
)

// inputOptions say how to read Salt output.
type inputOptions struct {
	Filter filter.Options
	// Base64: the input is base64 of the JSON, as the reactor example
	// sends it (cmd.run rewrites backslash-n pairs in its stdin).
	Base64 bool
}

// addInputFlags binds the input options shared by every command that
// reads Salt output.
func addInputFlags(fs *pflag.FlagSet, in *inputOptions) {
	o := &in.Filter
	fs.BoolVar(&in.Base64, "base64", false, "the input is base64-encoded JSON (what the reactor example sends)")
	fs.StringVar(&o.ResultPath, "result-path", o.ResultPath, "gjson path of a state's result")
	fs.StringVar(&o.ChangesPath, "changes-path", o.ChangesPath, "gjson path of a state's changes")
	fs.StringVar(&o.CommentPath, "comment-path", o.CommentPath, "gjson path of a state's comment")
	fs.Var(&listValue{list: &o.StateFuns}, "state-funs", "job functions whose returns are state runs, comma-separated (replaces the default list)")
}

// readInputs evaluates every FILE (stdin when there is none, or for
// "-") into one verdict. A file that cannot be read does not stop the
// others: the first such error is returned with the verdict of all.
func readInputs(f *Factory, files []string, in inputOptions) (*filter.Verdict, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	e := filter.NewEvaluator(in.Filter)
	var first error
	for _, name := range files {
		if err := readOne(f, e, name, in.Base64); err != nil && first == nil {
			first = err
		}
	}
	v := e.Verdict()
	if first != nil {
		v.Status = filter.Unknown
		if v.InputError == "" {
			v.InputError = first.Error()
		}
	}
	return v, first
}

func readOne(f *Factory, e *filter.Evaluator, name string, b64 bool) error {
	var src io.Reader = f.Stdin
	label := "stdin"
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read %w", err)
		}
		defer fh.Close()
		src, label = fh, name
	}
	if b64 {
		// The decoder skips line breaks; offsets in errors are then
		// offsets into the decoded JSON.
		src = base64.NewDecoder(base64.StdEncoding, src)
	}
	if err := e.Read(src, label); err != nil {
		var ie *filter.InputError
		if errors.As(err, &ie) {
			return err
		}
		return fmt.Errorf("read %s: %w", label, err)
	}
	return nil
}

// printDiagnostics writes the skipped-text warnings, and with verbose
// the notes on ignored returns, to stderr.
func printDiagnostics(w io.Writer, v *filter.Verdict, verbose bool) {
	for _, s := range v.Warnings {
		fmt.Fprintf(w, "saltmail: warning: %s\n", s)
	}
	if verbose {
		for _, s := range v.Notes {
			fmt.Fprintf(w, "saltmail: note: %s\n", s)
		}
	}
	if v.Dropped > 0 && (verbose || len(v.Warnings) > 0) {
		fmt.Fprintf(w, "saltmail: %d more warnings and notes not shown\n", v.Dropped)
	}
}

// listValue is a repeatable, comma-separated flag. (pflag's StringSlice
// parses CSV and silently drops what follows a line break.)
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

// rules parses the ignore and ignore_changes rules of the config into
// the evaluation options; a bad rule names its setting.
func (c *Config) rules(in *inputOptions) error {
	in.Filter.Rules = nil
	for _, set := range []struct {
		key   string
		kind  filter.RuleKind
		rules []string
	}{{"ignore", filter.Ignore, c.Ignore}, {"ignore_changes", filter.IgnoreChanges, c.IgnoreChanges}} {
		for _, s := range set.rules {
			r, err := filter.ParseRule(set.kind, s)
			if err != nil {
				return fmt.Errorf("%s: %w", names(set.key), err)
			}
			in.Filter.Rules = append(in.Filter.Rules, r)
		}
	}
	return nil
}
