package cmd

import (
	"encoding/json"
	"fmt"

	"github.com/saltmail/saltmail/report"
	"github.com/spf13/cobra"
)

// CheckOptions are the inputs of `saltmail check`.
type CheckOptions struct {
	IO      *Factory
	Files   []string
	Output  string // text or json
	Verbose bool
	Base64  bool
	Config  configFlags
}

// NewCmdCheck builds `saltmail check`. runF replaces the run function in
// tests of flag parsing.
func NewCmdCheck(f *Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f}
	c := &cobra.Command{
		Use:   "check [FILE...]",
		Short: "Print a monitoring-plugin verdict on Salt job returns",
		Long: `check reads Salt job returns (FILEs, or stdin when there is none or a
FILE is -) and prints one Nagios/Icinga-style line.

Exit status: 0 OK (nothing failed or changed), 1 WARNING (changes or
pending states only), 2 CRITICAL (a failed state or a minion in error),
3 UNKNOWN (input unreadable).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Files = args
			if opts.Output != "text" && opts.Output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", opts.Output)
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(opts)
		},
	}
	c.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text (one line) or json (the whole verdict)")
	addReadFlags(c, &opts.Verbose, &opts.Base64, "say on stderr which returns were ignored")
	// The ignore rules count for the check's status; nothing else of the
	// configuration does.
	addConfigFlags(c.Flags(), &opts.Config, useInput|useRules)
	return c
}

func runCheck(opts *CheckOptions) error {
	r, err := resolve(opts.IO, &opts.Config, nil)
	if err != nil {
		return &exitError{code: 3, err: err}
	}
	// The one-line output needs only the totals: memory stays flat.
	r.input.TotalsOnly = opts.Output == "text"
	v, err := r.readInputs(opts.IO, opts.Files, opts.Base64)
	printDiagnostics(opts.IO.Stderr, v, opts.Verbose)
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(v); encErr != nil {
			return &exitError{code: 3, err: fmt.Errorf("write verdict: %w", encErr)}
		}
	} else {
		fmt.Fprintln(opts.IO.Stdout, report.CheckLine(v))
	}
	if err != nil {
		return &exitError{code: 3, err: err}
	}
	return &exitError{code: int(v.Status)}
}
