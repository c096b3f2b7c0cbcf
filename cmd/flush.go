package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/saltmail/saltmail/deliver"
	"github.com/spf13/cobra"
)

// FlushOptions are the inputs of `saltmail flush`.
type FlushOptions struct {
	IO      *Factory
	Verbose bool
	List    bool
	Config  configFlags
}

// NewCmdFlush builds `saltmail flush`.
func NewCmdFlush(f *Factory, runF func(*FlushOptions) error) *cobra.Command {
	opts := &FlushOptions{IO: f}
	c := &cobra.Command{
		Use:   "flush",
		Short: "Send the spooled mail again, oldest first",
		Long: `flush offers every spooled message, oldest first, with the current
delivery settings, to the recipients stored beside it, and removes each
only after the server accepted it. Two flushes (or a flush and new
alerts) may run at once, and the spool may turn read-only: no message
is sent twice. A message that can never be sent (its envelope missing
or corrupt, no recipient, refused for good by the server) is moved to
failed/ in the spool with its reason, and said once on stderr.
--list shows what waits and what failed, and sends nothing.

Exit status: 0 nothing waits now (failed/ aside); 1 some mail is still
spooled; 2 configuration error, or a spool dir another user could write.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runFlush(opts)
		},
	}
	c.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "name each message sent")
	c.Flags().BoolVar(&opts.List, "list", false, "list the waiting and the failed messages, one a line, and send nothing")
	addConfigFlags(c.Flags(), &opts.Config, useTransport|useSpool)
	return c
}

func runFlush(opts *FlushOptions) error {
	f := opts.IO
	if opts.List {
		opts.Config.uses &^= useTransport // listing needs no server
	}
	r, err := resolve(f, &opts.Config, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if opts.List {
		return listSpool(f, r.spool)
	}
	d, sp := r.send, r.spool
	var down error // after a connection-level failure, the rest waits at once
	send := func(s deliver.Spooled) error {
		if down != nil {
			return &deliver.Error{Step: "connect", Temporary: true, Err: fmt.Errorf("not tried: %s failed just before: %w", d.what, down)}
		}
		if s.Env.RecipientsFromConfig && len(s.Env.To) == 0 {
			env, msg, err := r.addressed(s.Msg)
			if err != nil {
				return &deliver.Error{Step: "envelope", Temporary: true, Err: err}
			}
			s.Env.From, s.Env.To, s.Msg = env.From, env.To, msg
		}
		_, err := deliver.Send(d.dial, s.Env.From, s.Env.To, s.Msg, d.retry)
		if deliver.IsConnectionFailure(err) {
			down = err
		}
		return err
	}
	done := func(s deliver.Spooled, o deliver.Outcome) {
		switch {
		case o.Failed != "" && o.Err == nil:
			fmt.Fprintf(f.Stderr, "saltmail: %s: moved to %s/: %s\n", s.Path, deliver.FailedDir, o.Failed)
		case o.Sent && o.Err != nil:
			fmt.Fprintf(f.Stderr, "saltmail: %s: %v\n", s.Path, o.Err)
		case o.AlreadySent && o.Err != nil:
			fmt.Fprintf(f.Stderr, "saltmail: %s: sent already, %v\n", s.Path, o.Err)
		case o.Err != nil:
			fmt.Fprintf(f.Stderr, "saltmail: %s: still spooled: %v\n", s.Path, o.Err)
		case opts.Verbose && o.Sent:
			fmt.Fprintf(f.Stderr, "saltmail: %s: sent through %s\n", s.Path, d.what)
		case opts.Verbose && o.AlreadySent:
			fmt.Fprintf(f.Stderr, "saltmail: %s: sent already; removed now\n", s.Path)
		}
	}
	_, left, err := sp.Flush(send, done)
	if err == nil {
		var more int
		more, err = flushDefault(f, sp, send, done)
		left += more
	}
	var de *deliver.DirError
	if errors.As(err, &de) {
		return &exitError{code: 2, err: err}
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("flush %s: %w", sp.Dir, err)}
	}
	if left > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// listSpool prints one line per waiting, then per failed message:
// state, path, spooled time, recipients, subject, reason, tab-separated,
// with control characters escaped.
func listSpool(f *Factory, sp deliver.Spool) error {
	entries, err := sp.List()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	for _, e := range entries {
		state, when := "waiting", "-"
		if e.Failed {
			state = "failed"
		}
		if !e.Env.Spooled.IsZero() {
			when = e.Env.Spooled.UTC().Format("2006-01-02T15:04:05Z")
		}
		to := strings.Join(e.Env.To, ",")
		if to == "" && e.Env.RecipientsFromConfig {
			to = "(the configuration's)"
		}
		fields := []string{state, e.Path, when, to, e.Subject, e.Reason}
		for i, s := range fields {
			if s == "" {
				s = "-"
			}
			q := strconv.Quote(s)
			fields[i] = q[1 : len(q)-1]
		}
		fmt.Fprintln(f.Stdout, strings.Join(fields, "\t"))
	}
	return nil
}

// flushDefault also flushes the default spool when spool_dir names
// another and the default holds something: a run whose configuration
// failed kept its alert there (keepDespiteConfig).
func flushDefault(f *Factory, configured deliver.Spool, send func(deliver.Spooled) error, done func(deliver.Spooled, deliver.Outcome)) (int, error) {
	def := defaultSpool(f.Paths)
	if filepath.Clean(def.Dir) == filepath.Clean(configured.Dir) {
		return 0, nil
	}
	if _, err := os.Lstat(def.Dir); err != nil {
		return 0, nil // nothing was ever kept there
	}
	if err := def.Check(); err != nil {
		return 0, err
	}
	_, left, err := def.Flush(send, done)
	return left, err
}
