package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/saltmail/saltmail/watch"
	"github.com/spf13/cobra"
)

// DefaultEventCommand prints the master's job events, one TAG<TAB>JSON
// line each; it reconnects by itself across master restarts.
const DefaultEventCommand = `salt-run state.event '(salt/job/|syndic/).*' pretty=False`

// DefaultKeysCommand lists the master's keys as JSON: the accepted ones
// are the minions watch.expect expects.
const DefaultKeysCommand = `salt-key -L --out=json`

// watchCommandTimeout bounds each salt-key and salt-run the watch runs
// besides the bus; keysEvery is how often the keys are read again (a
// minion accepted or deleted is seen that much later).
var (
	watchCommandTimeout = 5 * time.Minute
	keysEvery           = 10 * time.Minute
)

// WatchOptions are the inputs of `saltmail watch`.
type WatchOptions struct {
	IO      *Factory
	Verbose bool
	Config  configFlags
	// Context ends the watch; nil: SIGTERM or SIGINT does (tests pass
	// their own).
	Context context.Context
}

// watchSettle is how long a job whose minions all returned waits for
// more under its jid (a batch's next /new, a syndic's tally); tests
// shorten it.
var watchSettle = 5 * time.Second

// watchRetry is how long a digest or a silence that reached neither the
// server nor the spool waits before it is tried again (not at once: the
// transport is down); tests shorten it.
var watchRetry = 5 * time.Minute

// usesWatch: all of the real job's settings, and the watch's own.
const usesWatch = usesSend | useWatch

// NewCmdWatch builds `saltmail watch`.
func NewCmdWatch(f *Factory, runF func(*WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f}
	c := &cobra.Command{
		Use:   "watch",
		Short: "Watch the master's event bus: one mail per state job, and who did not return",
		Long: `watch runs on the Salt master, as the master's user, and reads its event
bus through the event command. Each state job announced by
salt/job/<jid>/new gets one digest, when every targeted minion has
returned or when job_timeout has passed (naming those that did not
return, each asked first with saltutil.find_job: still running the job,
up but not running it, or no answer). Returns of no announced job (scheduled runs, salt-call) go in
one mail per group_wait window. What is in flight is kept in a journal
under the state dir: a watch killed or restarted loses no job. After
each start of the event command, the job cache is asked for the state
jobs the bus did not show (salt-run jobs.list_jobs, jobs.lookup_jid).
With watch.expect (YAML), a known minion (an accepted key) that has not
returned a scheduled run within every + grace is reported once.

Exit status: 0 stopped by SIGTERM or SIGINT; 2 configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runWatch(opts)
		},
	}
	c.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "say on stderr what the watch does (each digest, each restart of the event command)")
	addConfigFlags(c.Flags(), &opts.Config, usesWatch)
	return c
}

func runWatch(opts *WatchOptions) error {
	f := opts.IO
	r, err := resolve(f, &opts.Config, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	w, err := r.watchSetup(f)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer w.journal.Close()
	ctx := opts.Context
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
	}
	w.verbose = opts.Verbose
	// the reconcile's goroutine says what failed through the loop
	w.rec.Log = func(s string) { w.do(ctx, func() { w.log(s) }) }
	w.send(w.pending)
	lines := make(chan []byte, 256)
	bus := &watch.Bus{Command: w.command, Env: childEnv(os.Environ()), Log: func(s string) { fmt.Fprintln(f.Stderr, "saltmail: watch: "+s) },
		// Events fired while the runner was not listening are lost.
		Started: func(int) { w.do(ctx, func() { w.startReconcile(ctx) }) }}
	go func() {
		_ = bus.Run(ctx, func(l []byte) { lines <- append([]byte(nil), l...) })
		close(lines)
	}()
	if w.exp != nil {
		go w.readKeys(ctx)
	}
	err = w.loop(ctx, lines)
	w.saveState()
	return err
}

// watcher is a running watch: its tracker, journal and mailer.
type watcher struct {
	f       *Factory
	r       *resolved
	t       *watch.Tracker
	journal *watch.Journal
	pending []watch.Digest
	command []string
	verbose bool
	dir     string
	// inbox hands the loop what the edge goroutines (the reconcile,
	// the keys) found: the tracker and the state are the loop's alone.
	inbox  chan func()
	runner watch.Runner
	rec    *watch.Reconciler
	rstate *watch.ReconcileState
	saved  time.Time // when rstate was last written
	// reconciling: a reconcile runs; again: a start came meanwhile.
	reconciling, again bool
	exp                *watch.Expect // nil: no watch.expect rules
	keys               []string
	expDirty           bool // a clock moved: expect.json is to be written
	// unsent: digests that went nowhere, tried again from retryAt on.
	unsent  []watch.Digest
	retryAt time.Time
	// findJob: the salt that asks, at a job's job_timeout, the minions
	// that did not return (nil: none are asked); findSlots: one token a
	// find_job running.
	findJob   []string
	findSlots chan struct{}
}

// watchSetup checks the watch's settings and replays its journal.
func (r *resolved) watchSetup(f *Factory) (*watcher, error) {
	wc := r.cfg.Watch
	command, err := splitCommand(wc.EventCommand)
	if err != nil || len(command) == 0 {
		return nil, fmt.Errorf("%s: %q: name a command (%v)", names("watch.event_command"), wc.EventCommand, err)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"watch.job_timeout", wc.JobTimeout}, {"watch.group_wait", wc.GroupWait}, {"watch.group_interval", wc.GroupInterval}} {
		if d.v <= 0 {
			return nil, fmt.Errorf("%s: must be positive", names(d.key))
		}
	}
	w := &watcher{f: f, r: r, command: command, dir: filepath.Join(r.cfg.stateDir(r.spool), "watch"), inbox: make(chan func(), 16),
		runner: watch.Runner{Env: childEnv(os.Environ()), Timeout: watchCommandTimeout, MaxOutput: 512 << 20}}
	if err := w.setupEdges(); err != nil {
		return nil, err
	}
	findJobWait, err := w.setupFindJob()
	if err != nil {
		return nil, err
	}
	w.t = watch.NewTracker(watch.Options{JobTimeout: wc.JobTimeout, GroupWait: wc.GroupWait, GroupInterval: wc.GroupInterval, Settle: watchSettle, Remember: 24 * time.Hour, Input: r.input, Local: time.Local,
		Scheduled: w.scheduled, FindJobWait: findJobWait})
	w.loadState()
	j, pending, err := watch.OpenJournal(w.dir, w.t)
	if err != nil {
		return nil, err
	}
	w.journal, w.pending = j, pending
	return w, nil
}

// loop hears lines and the clock until ctx ends or the lines do.
func (w *watcher) loop(ctx context.Context, lines <-chan []byte) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.askFindJob(ctx)
		w.arm(timer)
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			ev, isEvent := watch.ParseLine(l)
			if !isEvent {
				continue
			}
			now := w.f.now()
			// What fell due first, as the journal's replay does: a return
			// after its job's deadline is late both ways.
			w.send(w.t.Due(now))
			keep, due := w.t.Handle(ev, now)
			if keep {
				if err := w.journal.Add(ev, now); err != nil {
					w.f.warn(err.Error())
				}
			}
			w.send(due)
			w.seen(now)
		case fn := <-w.inbox:
			fn()
		case <-timer.C:
			now := w.f.now()
			w.send(w.t.Due(now))
			if w.exp != nil {
				w.sendExpect(w.exp.Due(now))
			}
		}
	}
}

// arm sets the timer to the next deadline: the tracker's, a silence's,
// or the retry of what went nowhere (a quiet bus must not hold it).
func (w *watcher) arm(timer *time.Timer) {
	next := w.t.Next()
	if w.exp != nil {
		if n := w.exp.Next(); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	if len(w.unsent) > 0 && (next.IsZero() || w.retryAt.Before(next)) {
		next = w.retryAt
	}
	d := time.Hour
	if !next.IsZero() {
		d = max(next.Sub(w.f.now()), 0)
	}
	timer.Reset(d)
}

// send mails each digest, recording in the journal those that went.
func (w *watcher) send(due []watch.Digest) {
	if len(w.unsent) > 0 && !w.f.now().Before(w.retryAt) {
		due, w.unsent = append(w.unsent, due...), nil
	}
	went := false
	for _, d := range due {
		res := w.r.sendNews(w.f, d.Verdict, w.f.now(), w.verbose)
		if len(res.lost) > 0 {
			// Neither delivered nor spooled (it went to stderr): kept to
			// be tried again in a while, and the journal is not compacted
			// meanwhile, so a restart sends it again too.
			w.unsent, w.retryAt = append(w.unsent, d), w.f.now().Add(watchRetry)
			continue
		}
		if err := w.journal.Went(d.Key, w.f.now()); err != nil {
			w.f.warn(err.Error())
		}
		w.rstate.Went(d.Key, w.f.now())
		for _, jid := range d.JIDs { // a group's jobs: a reconcile must not mail them again
			w.rstate.Went(jid, w.f.now())
		}
		went = true // a group of late returns moved the minions missing too
		if w.verbose {
			fmt.Fprintf(w.f.Stderr, "saltmail: watch: digest %s done (%s)\n", d.Key, w.t)
		}
	}
	if went { // before the journal forgets it: a reconcile must not digest it again
		w.saveReconcile()
	}
	if len(due) > 0 && len(w.unsent) == 0 {
		if err := w.journal.Compact(w.t); err != nil {
			w.f.warn(err.Error())
		}
	}
}
