package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/saltmail/saltmail/watch"
)

// DefaultFindJobCommand asks the minions that did not return by a
// job's job_timeout whether they still run it, as the salt CLI asks
// them: the minions (-L m1,m2) and `saltutil.find_job <jid>` are
// appended. An empty watch.find_job_command asks no one.
const DefaultFindJobCommand = `salt --out=json --static -t 10 -L`

// findJobTimeout bounds each find_job (a minion that is down costs the
// salt CLI its -t and Salt's gather_job_timeout: 21-22 s seen with -t
// 10); findJobWait bounds how long a digest waits for its answers, its
// turn for one of the findJobSlots included. Tests shorten them.
var (
	findJobTimeout = 90 * time.Second
	findJobWait    = 2 * time.Minute
	findJobSlots   = 2
)

// setupFindJob checks watch.find_job_command, and says how long a
// digest waits for the answers: 0 when no one is asked.
func (w *watcher) setupFindJob() (time.Duration, error) {
	s := w.r.cfg.Watch.FindJobCommand
	argv, err := splitCommand(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q: name a command, or none (%v)", names("watch.find_job_command"), s, err)
	}
	if len(argv) == 0 {
		return 0, nil
	}
	w.findJob = watch.FindJobCommand(w.command, argv)
	w.findSlots = make(chan struct{}, findJobSlots)
	return findJobWait, nil
}

// askFindJob asks, in the background, the minions of each job the
// tracker held at its job_timeout; the answers go to the loop.
func (w *watcher) askFindJob(ctx context.Context) {
	for _, a := range w.t.Asks() {
		if w.verbose {
			w.log(fmt.Sprintf("job %s: asking %s with saltutil.find_job", a.JID, strings.Join(a.Minions, ", ")))
		}
		go w.findJobOf(ctx, a)
	}
}

func (w *watcher) findJobOf(ctx context.Context, a watch.Ask) {
	// A job digested without its answers is asked no more: asks that
	// wait for a slot do not pile up behind a slow salt.
	stale, cancel := context.WithDeadline(ctx, a.Until)
	defer cancel()
	select {
	case w.findSlots <- struct{}{}:
		defer func() { <-w.findSlots }()
	case <-stale.Done():
		return
	}
	argv := append(w.findJob[:len(w.findJob):len(w.findJob)], strings.Join(a.Minions, ","), "saltutil.find_job", a.JID)
	r := w.runner
	r.Timeout = findJobTimeout
	out, err := r.Output(ctx, argv)
	// salt exits non-zero when a minion gave no answer: what it printed
	// still says who did.
	answers, perr := watch.ParseFindJob(out, a.Minions)
	if perr != nil && err == nil {
		err = perr
	}
	// The job cache may hold returns the bus never showed (fired while
	// the event command reconnected to a restarted master): they count.
	f, lerr := w.rec.Lookup(ctx, watch.ListedJob{JID: a.JID})
	w.do(ctx, func() {
		if lerr == nil {
			w.reconciled(f)
		} else if ctx.Err() == nil {
			w.log(fmt.Sprintf("job %s: %v", a.JID, lerr))
		}
		w.answered(a, answers, err)
	})
}

// answered digests a job with its minions' answers, or without them
// when the command said nothing usable.
func (w *watcher) answered(a watch.Ask, answers map[string]watch.FindJob, err error) {
	if answers == nil {
		w.log(fmt.Sprintf("job %s: saltutil.find_job: %v; its digest names who did not return without it", a.JID, err))
	} else if w.verbose {
		w.log(fmt.Sprintf("job %s: saltutil.find_job answered: %s", a.JID, findJobSummary(a.Minions, answers)))
	}
	w.send(w.t.Answer(a.JID, answers, w.f.now()))
}

func findJobSummary(minions []string, answers map[string]watch.FindJob) string {
	words := map[watch.FindJob]string{watch.StillRunning: "still running", watch.NotRunning: "not running it", watch.NoAnswer: "no answer"}
	parts := make([]string, len(minions))
	for i, m := range minions {
		parts[i] = m + " " + words[answers[m]]
	}
	return strings.Join(parts, ", ")
}
