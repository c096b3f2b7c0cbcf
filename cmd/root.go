// Package cmd is saltmail's command line: flags, configuration and
// wiring, and the mapping of errors to exit codes. It holds no logic of
// its own; filter decides, report renders, delivery sends.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

// Factory carries what commands take from the outside world, so tests
// can hand them buffers, a fixed clock and directories of their own.
type Factory struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now, Hostname and Getenv default to the clock, os.Hostname and
	// os.Getenv.
	Now      func() time.Time
	Hostname func() (string, error)
	Getenv   func(string) string
	// IsTerminal says whether Stdout is a terminal (render's default
	// format); nil is false, as for a pipe.
	IsTerminal func() bool
	// Paths are the default files and directories. Required: Main
	// refuses to run without them, so no test can reach the host's
	// /etc or /var by forgetting them.
	Paths Paths
}

// Paths are where saltmail looks when no setting names a place.
type Paths struct {
	// ConfigFile is read when it exists and --config names no other.
	ConfigFile string
	// SpoolDir is the spool when spool_dir is not set and it is
	// writable (or can be made); else UserSpoolDir.
	SpoolDir     string
	UserSpoolDir string
	// SaltConfigDir is Salt's configuration directory (/etc/salt): the
	// local minion's id is read there.
	SaltConfigDir string
}

// DefaultPaths are the host's: /etc/salt/saltmail.yaml and
// /var/spool/saltmail, or for a user who cannot write there
// $XDG_STATE_HOME/saltmail/spool (~/.local/state/saltmail/spool, the
// home taken from the passwd entry when HOME is unset; never /tmp).
func DefaultPaths(getenv func(string) string) Paths {
	user := DefaultSpoolDir // no home at all: no spool of the user's own
	if state := userStateDir(getenv); state != "" {
		user = filepath.Join(state, "saltmail", "spool")
	}
	return Paths{ConfigFile: DefaultConfigFile, SpoolDir: DefaultSpoolDir, UserSpoolDir: user, SaltConfigDir: "/etc/salt"}
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

// Run runs saltmail as a program: with args (without the program
// name), the host's default paths, and the process's streams.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	tty := func() bool { return isTerminal(stdout) }
	return Main(&Factory{Stdin: stdin, Stdout: stdout, Stderr: stderr, IsTerminal: tty, Paths: DefaultPaths(os.Getenv)}, args)
}

// Main runs saltmail with what f provides and returns the exit status.
func Main(f *Factory, args []string) int {
	stderr := f.Stderr
	if f.Paths.ConfigFile == "" || f.Paths.SpoolDir == "" || f.Paths.UserSpoolDir == "" || f.Paths.SaltConfigDir == "" {
		fmt.Fprintln(stderr, "saltmail: internal error: no default paths (Factory.Paths)")
		return 2
	}
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
func NewCmdRoot(f *Factory) *cobra.Command { return newCmdRoot(f, nil) }

// newCmdRoot builds the tree with sendF, when set, in place of the root
// command's run function (tests of flag parsing).
func newCmdRoot(f *Factory, sendF func(*SendOptions) error) *cobra.Command {
	opts := &SendOptions{IO: f}
	root := &cobra.Command{
		Use:           "saltmail [FILE...]",
		Short:         "Mail Salt admins when a state run failed or changed something",
		Long:          sendLong,
		Args:          fileArgs, // a mistyped command is no missing file
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Files = args
			if sendF != nil {
				return sendF(opts)
			}
			return runSend(opts)
		},
	}
	addReadFlags(root, &opts.Verbose, &opts.Base64, "say on stderr what was ignored and delivered")
	addDryRunFlag(root, &opts.DryRun)
	addConfigFlags(root.Flags(), &opts.Config, usesSend)
	// NewCmdCompletion replaces cobra's own (bash, zsh and fish only).
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(NewCmdCheck(f, nil))
	root.AddCommand(NewCmdRender(f, nil))
	root.AddCommand(NewCmdFlush(f, nil))
	root.AddCommand(NewCmdTestMail(f, nil))
	root.AddCommand(NewCmdRun(f, nil))
	root.AddCommand(NewCmdWatch(f, nil))
	root.AddCommand(NewCmdVersion(f, nil))
	root.AddCommand(NewCmdCompletion(f, nil))
	root.AddCommand(newCmdMan(f, nil))
	setVersionFlag(root)
	setHelp(root)
	return root
}
