package cmd

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/saltmail/saltmail/filter"
)

// readInputs evaluates every FILE (stdin when there is none, or for
// "-") into one verdict. A file that cannot be read does not stop the
// others: the first such error is returned with the verdict of all.
func (r *resolved) readInputs(f *Factory, files []string, b64 bool) (*filter.Verdict, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	e := filter.NewEvaluator(r.input)
	var first error
	for _, name := range files {
		if err := readOne(f, e, name, b64); err != nil && first == nil {
			first = err
		}
	}
	v := e.Verdict()
	renameLocal(v, r.localID)
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
