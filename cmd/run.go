package cmd

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
	"github.com/spf13/cobra"
)

// RunOptions are the inputs of `saltmail run`.
type RunOptions struct {
	SendOptions
	Command []string
	Timeout time.Duration
}

// NewCmdRun builds `saltmail run`, the cron wrapper.
func NewCmdRun(f *Factory, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{SendOptions: SendOptions{IO: f}}
	c := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARGS...]",
		Short: "Run a Salt command (from cron) and mail what it did",
		Long: `run runs COMMAND (e.g. salt-call state.highstate --out=json), reads its
stdout as Salt output and mails when states failed, changed or are
pending. When the command itself fails and prints no usable JSON (master
down, authentication error, time-out), it mails that failure with the
exit status and the tail of stderr, as cronic does. It prints nothing
when there is nothing to say, so cron's own MAILTO stays quiet.

Exit status: 0 the command succeeded (and any mail was delivered); the
command's own status when it failed (124 when it timed out, 127 when it
could not start); 1 when delivery failed and the mail was spooled;
2 usage or configuration error; 3 its output could not be read.

--dry-run still runs COMMAND (its output is what is previewed), then
says on stdout what would be mailed to whom, and delivers, spools and
remembers nothing.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Command = args
			if runF != nil {
				return runF(opts)
			}
			return runRun(opts)
		},
	}
	c.Flags().DurationVar(&opts.Timeout, "timeout", 2*time.Hour, "kill the command when it runs longer")
	addReadFlags(c, &opts.Verbose, &opts.Base64, "say on stderr what was ignored and delivered")
	addDryRunFlag(c, &opts.DryRun)
	addConfigFlags(c.Flags(), &opts.Config, usesSend)
	return c
}

// tail keeps the last n bytes written to it.
type tail struct {
	mu  sync.Mutex
	n   int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.ToValidUTF8(string(t.buf), "?")
}

const tailBytes = 8 << 10

// quiet: the verdict shows no failed state, no minion in error, nothing
// Salt said instead of returns, and it was read whole.
func quiet(v *filter.Verdict) bool {
	return v.Failed == 0 && v.Errors == 0 && len(v.SaltErrors) == 0 && v.InputError == ""
}

// commandFailure is the mail about a command that failed, with what its
// output showed, if it printed any.
func (s *resolved) commandFailure(command []string, status, stderr string, v *filter.Verdict, now time.Time) (outgoing, error) {
	cf := report.CommandFailure{Command: command, Status: status, Host: s.host, Stderr: stderr, Stdout: strings.Join(v.Warnings, "\n")}
	if v.Documents > 0 {
		cf.Output, _ = report.Text(v, s.mail.head.PartLimit)
	}
	m, err := report.BuildCommandFailure(cf, s.mail.options(now, s.host))
	if err != nil {
		return outgoing{}, err
	}
	return s.mail.outgoing(m)
}

func runRun(opts *RunOptions) error {
	f := opts.IO
	if opts.Timeout <= 0 {
		return &exitError{code: 2, err: fmt.Errorf("--timeout must be positive, not %v", opts.Timeout)}
	}
	s, err := resolve(f, &opts.Config, nil)
	if err != nil && opts.DryRun {
		return &exitError{code: 2, err: err} // a preview keeps no alert
	}
	if err != nil {
		// The job still runs (cron asked for it), and its alert is kept.
		return keepDespiteConfig(f, err, func(in filter.Options) *filter.Verdict {
			c := runChild(opts.Command, opts.Timeout, in, opts.Base64, childEnv(os.Environ()))
			if c.code != 0 && quiet(c.v) && c.v.InputError == "" {
				c.v.InputError = fmt.Sprintf("%s failed (%s): %s", opts.Command[0], c.status, lastLine(c.stderr))
			}
			return c.v
		}, "saltmail run")
	}
	c := runChild(opts.Command, opts.Timeout, s.input, opts.Base64, childEnv(os.Environ()))
	v, status, code, readErr := c.v, c.status, c.code, c.readErr
	// salt-call's minion is "local": report it under its own id, read
	// from the config dir the command was given.
	renameLocal(v, localID(s.cfg, configDir(opts.Command, f.Paths.SaltConfigDir), s.host))
	if opts.Verbose {
		// Under cron any stderr output is mailed: be quiet unless asked.
		printDiagnostics(f.Stderr, v, true)
	}
	if (code == 124 || c.signal != nil) && v.Documents > 0 && v.InputError == "" {
		// Part of the output came before the kill: mail it, and say so.
		v.InputError = fmt.Sprintf("%s was %s; its output may be incomplete", opts.Command[0], status)
	}

	now := f.now()
	failure := code != 0 && (v.Documents == 0 || quiet(v))
	if opts.DryRun {
		return s.runDryRun(f, opts.Command, c, failure, now)
	}
	var res outcome
	if failure {
		// The command failed and its output says nothing of it (no JSON;
		// or salt-ssh's exit 20, state.low's exit 1, a returner's failure
		// beside clean states): the failure itself is the news.
		o, err := s.commandFailure(opts.Command, status, c.stderr, v, now)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		res = s.deliverAll(f, []outgoing{o}, opts.Verbose)
		readErr = nil // the mail says it all
	} else {
		res = s.sendNews(f, v, now, opts.Verbose)
	}
	if res.signal == nil {
		res.signal = c.signal
	}
	switch {
	case res.signal != nil:
		return res.interrupted()
	case code != 0:
		return &exitError{code: code}
	case res.spooled > 0 || len(res.lost) > 0:
		return &exitError{code: 1}
	case readErr != nil:
		return &exitError{code: 3, err: fmt.Errorf("output of %s: %w", opts.Command[0], readErr)}
	}
	return nil
}
