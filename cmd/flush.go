package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

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
is sent twice. SIGTERM, SIGINT or SIGHUP puts the message in flight back
and exits 128 + the signal; after a kill -9 the next flush offers it
again (it may arrive twice, it is never lost). A mail kept after a
configuration error gets the configuration's sender and recipients in
the spool before it is first offered. A message that can never be sent
(its envelope missing or corrupt, no recipient, refused for good by the
server) is moved to failed/ in the spool with its reason, and said once
on stderr.
--list shows what waits and what failed, and sends nothing; the
default spool too, when spool_dir names another.

Exit status: 0 nothing waits now (failed/ aside); 1 some mail is still
spooled; 2 configuration error, or a spool dir another user could write;
128 + the signal's number when stopped by one.`,
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
		return listSpools(f, r.spool)
	}
	fl := &flusher{f: f, d: r.send, verbose: opts.Verbose, sigs: make(chan os.Signal, 1)}
	// A cron time-out or systemd stopping saltmail must not leave the
	// message in flight marked as being sent: it is put back instead.
	signal.Notify(fl.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(fl.sigs)
	sp := r.spool
	sp.Address = r.addressed // a kept alert gets its recipients in the spool
	_, left, err := sp.Flush(fl.send, fl.done)
	if err == nil && fl.signal() == nil {
		var more int
		more, err = flushDefault(f, sp, fl.send, fl.done)
		left += more
	}
	var de *deliver.DirError
	switch {
	case fl.signal() != nil:
		return outcome{signal: fl.stopped}.interrupted()
	case errors.As(err, &de):
		return &exitError{code: 2, err: err}
	case err != nil:
		return &exitError{code: 1, err: fmt.Errorf("flush %s: %w", sp.Dir, err)}
	case left > 0:
		return &exitError{code: 1}
	}
	return nil
}

// flusher sends what a flush offers and says what became of it.
type flusher struct {
	f       *Factory
	d       *delivery
	verbose bool
	down    error // the server is down or refusing all for now: the rest waits at once
	sigs    chan os.Signal
	stopped os.Signal
}

// signal is the signal that stopped the flush, if one came.
func (fl *flusher) signal() os.Signal {
	if fl.stopped == nil {
		select {
		case fl.stopped = <-fl.sigs:
		default:
		}
	}
	return fl.stopped
}

// send delivers one spooled message, unless a signal came: then it
// returns at once, without waiting for the server, so the spool puts
// the message back. Should the server accept it all the same, it
// arrives twice: no loss comes first.
func (fl *flusher) send(s deliver.Spooled) error {
	if sig := fl.signal(); sig != nil {
		return fmt.Errorf("not tried: %w by %v", deliver.ErrStopped, sig)
	}
	if fl.down != nil {
		return &deliver.Error{Step: "connect", Temporary: true, Err: fmt.Errorf("not tried: %s failed just before: %w", fl.d.what, fl.down)}
	}
	done := make(chan error, 1)
	go func() {
		_, err := deliver.Send(fl.d.dial, s.Env.From, s.Env.To, s.Msg, fl.d.retry)
		done <- err
	}()
	select {
	case err := <-done:
		if serverDown(err, s.Env.To) {
			fl.down = err
		}
		return err
	case fl.stopped = <-fl.sigs:
		return fmt.Errorf("%w by %v while sending through %s", deliver.ErrStopped, fl.stopped, fl.d.what)
	}
}

// done says on stderr what became of one message: failures always,
// deliveries with -v.
func (fl *flusher) done(s deliver.Spooled, o deliver.Outcome) {
	w := fl.f.Stderr
	switch {
	case o.Failed != "" && o.Err == nil:
		fmt.Fprintf(w, "saltmail: %s: moved to %s/: %s\n", s.Path, deliver.FailedDir, o.Failed)
	case o.Sent && o.Err != nil:
		fmt.Fprintf(w, "saltmail: %s: %v\n", s.Path, o.Err)
	case o.AlreadySent && o.Err != nil:
		fmt.Fprintf(w, "saltmail: %s: sent already, %v\n", s.Path, o.Err)
	case o.Err != nil:
		fmt.Fprintf(w, "saltmail: %s: still spooled: %v\n", s.Path, o.Err)
	case fl.verbose && o.Sent:
		fmt.Fprintf(w, "saltmail: %s: sent through %s\n", s.Path, fl.d.what)
	case fl.verbose && o.AlreadySent:
		fmt.Fprintf(w, "saltmail: %s: sent already; removed now\n", s.Path)
	}
}

// listSpools prints one line per waiting, then per failed message of
// the spool, then of the default spool when spool_dir names another
// and it exists (a run whose configuration failed kept its alert
// there, and flush sends it): state, path (which says the spool),
// spooled time, recipients, subject, reason, tab-separated, with
// control characters escaped.
func listSpools(f *Factory, sp deliver.Spool) error {
	spools := []deliver.Spool{sp}
	if def, ok := otherDefault(f, sp); ok {
		spools = append(spools, def)
	}
	for _, sp := range spools {
		entries, err := sp.List()
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		for _, e := range entries {
			fmt.Fprintln(f.Stdout, listLine(e))
		}
	}
	return nil
}

// listLine is one entry's line of flush --list.
func listLine(e deliver.Entry) string {
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
	return strings.Join(fields, "\t")
}

// otherDefault is the default spool when spool_dir names another and
// the default exists: a run whose configuration failed kept its alert
// there (keepDespiteConfig).
func otherDefault(f *Factory, configured deliver.Spool) (deliver.Spool, bool) {
	def := defaultSpool(f.Paths)
	if filepath.Clean(def.Dir) == filepath.Clean(configured.Dir) {
		return def, false
	}
	if _, err := os.Lstat(def.Dir); err != nil {
		return def, false // nothing was ever kept there
	}
	return def, true
}

// flushDefault also flushes the default spool when spool_dir names
// another and the default holds something, with the same sender.
func flushDefault(f *Factory, configured deliver.Spool, send func(deliver.Spooled) error, done func(deliver.Spooled, deliver.Outcome)) (int, error) {
	def, ok := otherDefault(f, configured)
	if !ok {
		return 0, nil
	}
	if err := def.Check(); err != nil {
		return 0, err
	}
	def.Address = configured.Address
	_, left, err := def.Flush(send, done)
	return left, err
}
