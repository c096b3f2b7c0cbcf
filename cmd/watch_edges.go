package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/saltmail/saltmail/watch"
)

// The watch's edges besides the bus: the job cache asked after each
// start of the event command, the keys read for watch.expect, and the
// small state files both keep under <state dir>/watch. Their commands
// run in goroutines; what they find is handed to the loop (do), which
// alone touches the tracker, the clocks and the state.

// setupEdges checks the keys and runner commands and makes the clocks.
func (w *watcher) setupEdges() error {
	wc := w.r.cfg.Watch
	fallback, err := splitCommand(wc.RunnerCommand)
	if err != nil || len(fallback) == 0 {
		return fmt.Errorf("%s: %q: name a command (%v)", names("watch.runner_command"), wc.RunnerCommand, err)
	}
	w.rec = &watch.Reconciler{Run: watch.RunnerCommand(w.command, fallback), Runner: w.runner, Loc: time.Local}
	if len(wc.Expect) == 0 {
		return nil
	}
	if w.keys, err = splitCommand(wc.KeysCommand); err != nil || len(w.keys) == 0 {
		return fmt.Errorf("%s: %q: name a command (%v)", names("watch.keys_command"), wc.KeysCommand, err)
	}
	w.exp = watch.NewExpect(wc.Expect)
	return nil
}

// loadState reads the clocks and the reconcile state before the
// journal is replayed: the jobs digested before are done, so that
// neither the replay nor a reconcile digests them again. A corrupt
// file is said and taken as empty (at worst, a job mailed twice).
func (w *watcher) loadState() {
	if w.exp != nil {
		if err := w.exp.LoadExpect(w.dir); err != nil {
			w.f.warn(err.Error())
		}
	}
	s, err := watch.LoadReconcile(w.dir)
	if err != nil {
		w.f.warn(err.Error())
		s = &watch.ReconcileState{Digested: map[string]time.Time{}}
	}
	now := w.f.now()
	s.Prune(now, 24*time.Hour)
	for jid, at := range s.Digested {
		w.t.MarkDone(jid, at, s.Missing[jid])
	}
	if s.JIDUTC != nil {
		w.t.SetJIDZone(*s.JIDUTC)
	}
	if s.Mark.IsZero() {
		s.Mark = now // a first start: the jobs before it are not this watch's
	}
	w.rstate = s
}

// saveState writes what moved, at the end.
func (w *watcher) saveState() {
	w.saveReconcile()
	if w.exp != nil {
		w.saveExpect()
	}
}

func (w *watcher) saveReconcile() {
	w.saved = w.f.now()
	w.rstate.Missing = w.t.Known().Missing
	if utc, known := w.t.JIDZone(); known {
		w.rstate.JIDUTC = &utc
	}
	w.rstate.Prune(w.saved, 24*time.Hour)
	if err := w.rstate.Save(w.dir); err != nil {
		w.f.warn(err.Error())
	}
}

func (w *watcher) saveExpect() {
	w.expDirty = false
	if err := w.exp.SaveExpect(w.dir); err != nil {
		w.f.warn(err.Error())
	}
}

// seen moves the mark to the last event; it is written once a minute
// at most (a kill -9 then makes a reconcile ask a minute more).
func (w *watcher) seen(now time.Time) {
	w.rstate.Mark = now
	if now.Sub(w.saved) > time.Minute {
		w.saveReconcile()
	}
	if w.expDirty {
		w.saveExpect()
	}
}

// scheduled is the tracker's hook: a scheduled return moves a clock.
func (w *watcher) scheduled(minion, schedule string, at time.Time) {
	if w.exp != nil && w.exp.Saw(minion, schedule, at) {
		w.expDirty = true
	}
}

// do hands fn to the loop, unless the watch is ending.
func (w *watcher) do(ctx context.Context, fn func()) {
	select {
	case w.inbox <- fn:
	case <-ctx.Done():
	}
}

func (w *watcher) log(s string) { fmt.Fprintln(w.f.Stderr, "saltmail: watch: "+s) }

// startReconcile asks the job cache, in the background, for the state
// jobs since the last event seen (or the oldest job in flight). One
// runs at a time; a start that comes meanwhile runs another after it.
func (w *watcher) startReconcile(ctx context.Context) {
	if w.reconciling {
		w.again = true
		return
	}
	k := w.t.Known()
	loc := w.t.JIDLocation()
	from, err := watch.From(w.rstate.Mark, k, loc)
	if err != nil {
		return
	}
	rec := *w.rec // the jids' zone as known now: the loop may learn more
	rec.Loc = loc
	w.reconciling = true
	began := w.f.now()
	go func() {
		n := 0
		err := rec.Jobs(ctx, from, k, func(f watch.Found) { n++; w.do(ctx, func() { w.reconciled(f) }) })
		w.do(ctx, func() { w.reconcileDone(ctx, began, n, err) })
	}()
	if w.verbose {
		w.log(fmt.Sprintf("asking the job cache for state jobs since %s", from.Format(time.DateTime)))
	}
}

// reconciled hands one job of the cache to the tracker.
func (w *watcher) reconciled(f watch.Found) {
	now := w.f.now()
	kept, due, err := w.t.Reconcile(f, now)
	if err != nil {
		w.log(err.Error())
	}
	for _, e := range kept {
		if err := w.journal.Add(e.Event, e.At); err != nil {
			w.f.warn(err.Error())
		}
	}
	w.send(append(due, w.t.Due(now)...))
}

func (w *watcher) reconcileDone(ctx context.Context, began time.Time, n int, err error) {
	w.reconciling = false
	switch {
	case err != nil && ctx.Err() == nil:
		w.log("the job cache: " + err.Error())
	case err == nil && began.After(w.rstate.Mark):
		w.rstate.Mark = began // the bus listened from before then
		w.saveReconcile()
	}
	if w.verbose && err == nil {
		w.log(fmt.Sprintf("the job cache held %d state jobs not digested (%s)", n, w.t))
	}
	if w.again {
		w.again = false
		w.startReconcile(ctx)
	}
}

// readKeys reads the accepted keys now and every keysEvery.
func (w *watcher) readKeys(ctx context.Context) {
	for {
		out, err := w.runner.Output(ctx, w.keys)
		var ms []string
		if err == nil {
			ms, err = watch.ParseKeys(out)
		}
		if err != nil && ctx.Err() == nil {
			w.do(ctx, func() { w.log("known minions (watch.keys_command): " + err.Error()) })
		} else if err == nil {
			w.do(ctx, func() { w.exp.Known(ms, w.f.now()); w.saveExpect() })
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(keysEvery):
		}
	}
}

// sendExpect mails each silence; one that went nowhere is tried again
// in five minutes (not at once: the transport is down).
func (w *watcher) sendExpect(due []watch.Overdue) {
	for _, o := range due {
		res := w.r.sendNews(w.f, o.Digest(w.r.input).Verdict, w.f.now(), w.verbose)
		if len(res.lost) > 0 {
			w.exp.Retry(o, w.f.now().Add(watchRetry))
		} else if w.verbose {
			w.log(fmt.Sprintf("%s: no scheduled %s since %s: reported", o.Minion, o.Schedule, o.Since.Format(time.DateTime)))
		}
	}
	if len(due) > 0 {
		w.saveExpect()
	}
}
