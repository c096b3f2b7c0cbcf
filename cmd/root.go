// Package cmd is saltmail's command line: flags, configuration and
// wiring, and the mapping of errors to exit codes. It holds no logic of
// its own; filter decides, report renders, delivery sends.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/spf13/cobra"
)

// Factory carries what commands take from the outside world, so tests
// can hand them buffers instead.
type Factory struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now, Hostname and Getenv default to the clock, os.Hostname and
	// os.Getenv.
	Now      func() time.Time
	Hostname func() (string, error)
	Getenv   func(string) string
	// NoDefaultConfig skips /etc/salt/saltmail.yaml (hermetic tests).
	NoDefaultConfig bool
}

func (f *Factory) getenv(k string) string {
	if f.Getenv != nil {
		return f.Getenv(k)
	}
	return os.Getenv(k)
}

func (f *Factory) warn(s string) { fmt.Fprintf(f.Stderr, "saltmail: warning: %s\n", s) }

func (f *Factory) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Factory) hostname() string {
	get := f.Hostname
	if get == nil {
		get = os.Hostname
	}
	h, err := get()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// exitError carries an exit code out of a command. Its message, if any,
// has been printed already.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Run runs saltmail with args (without the program name) and returns
// its exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Main(&Factory{Stdin: stdin, Stdout: stdout, Stderr: stderr}, args)
}

// Main runs saltmail with what f provides and returns the exit status.
func Main(f *Factory, args []string) int {
	stderr := f.Stderr
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(f.Stdin)
	root.SetOut(f.Stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "saltmail: %v\n", ee.err)
		}
		return ee.code
	}
	// Flag and argument errors: usage.
	fmt.Fprintf(stderr, "saltmail: %v\n", err)
	return usageExit(root, args)
}

// usageExit is 3 (UNKNOWN) for check, which keeps the monitoring-plugin
// codes, and 2 for every other command.
func usageExit(root *cobra.Command, args []string) int {
	if c, _, err := root.Find(args); err == nil && c.Name() == "check" {
		return 3
	}
	return 2
}

// NewCmdRoot builds the saltmail command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	opts := &SendOptions{IO: f, Input: inputOptions{Filter: filter.DefaultOptions()}}
	root := &cobra.Command{
		Use:           "saltmail [FILE...]",
		Short:         "Mail Salt admins when a state run failed or changed something",
		Long:          sendLong,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Files = args
			return runSend(opts)
		},
	}
	newSendFlags(root, opts)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(NewCmdCheck(f, nil))
	root.AddCommand(NewCmdRender(f, nil))
	root.AddCommand(NewCmdFlush(f, nil))
	root.AddCommand(NewCmdTestMail(f, nil))
	root.AddCommand(NewCmdRun(f, nil))
	return root
}
