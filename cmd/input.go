package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/saltmail/saltmail/filter"
	"github.com/spf13/pflag"
)

// addFilterFlags binds the evaluation options shared by every command
// that reads Salt output.
func addFilterFlags(fs *pflag.FlagSet, o *filter.Options) {
	fs.StringVar(&o.ResultPath, "result-path", o.ResultPath, "gjson path of a state's result")
	fs.StringVar(&o.ChangesPath, "changes-path", o.ChangesPath, "gjson path of a state's changes")
	fs.StringVar(&o.CommentPath, "comment-path", o.CommentPath, "gjson path of a state's comment")
	fs.Var(&listValue{list: &o.StateFuns}, "state-funs", "job functions whose returns are state runs, comma-separated (replaces the default list)")
}

// readInputs evaluates every FILE (stdin when there is none, or for
// "-") into one verdict. A file that cannot be read does not stop the
// others: the first such error is returned with the verdict of all.
func readInputs(f *Factory, files []string, o filter.Options) (*filter.Verdict, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	e := filter.NewEvaluator(o)
	var first error
	for _, name := range files {
		if err := readOne(f, e, name); err != nil && first == nil {
			first = err
		}
	}
	v := e.Verdict()
	if first != nil {
		v.Status = filter.Unknown
		if v.Input == "" {
			v.Input = first.Error()
		}
	}
	return v, first
}

func readOne(f *Factory, e *filter.Evaluator, name string) error {
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
