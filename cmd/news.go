package cmd

import (
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
)

// news leaves out of the verdict what was reported already and renders
// the mails, without recording anything: render's preview. The memory
// is read without its locks.
func (r *resolved) news(v *filter.Verdict, now time.Time) ([]outgoing, error) {
	var resolvedStates []filter.Resolved
	if r.memory != nil {
		v, resolvedStates, _ = filter.Suppress(v, r.memory.Recall, now, r.policy)
	}
	return r.mails(v, resolvedStates, now)
}

// sendNews is the job's end: under the minions' locks it leaves out
// what was reported already, renders the mails, delivers or spools
// each, and only then records what went, so a run killed in the middle
// of delivery has recorded nothing and the next run mails again. A
// minion whose mail went nowhere (not even to the spool) is not
// recorded either. It returns what deliverAll says.
func (r *resolved) sendNews(f *Factory, v *filter.Verdict, now time.Time, verbose bool) outcome {
	send := func(v *filter.Verdict, resolvedStates []filter.Resolved) outcome {
		msgs, err := r.mails(v, resolvedStates, now)
		if err != nil {
			f.warn(err.Error())
		}
		return r.deliverAll(f, msgs, verbose)
	}
	if r.memory == nil {
		return send(v, nil)
	}
	minions := make([]string, 0, len(v.Results))
	for _, m := range v.Results {
		minions = append(minions, m.ID)
	}
	var res outcome
	// 0: waiting for the locks; 1: deciding and delivering; 2: given up
	// (a signal came while waiting): decide must then do nothing.
	var state atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- r.memory.Update(minions, func(recall func(string) filter.Memory) map[string]filter.Memory {
			if !state.CompareAndSwap(0, 1) {
				return nil
			}
			kept, resolvedStates, next := filter.Suppress(v, recall, now, r.policy)
			res = send(kept, resolvedStates)
			for id := range res.lost {
				delete(next, id)
			}
			return next
		})
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var err error
	select {
	case err = <-done:
	case sig := <-sigs:
		if state.CompareAndSwap(0, 2) {
			// Stopped while another run holds the locks: what this run
			// read must not die with it. Spool it all, unsuppressed.
			return r.spoolAll(f, v, now, fmt.Sprintf("not tried: saltmail was stopped by %v while it waited for the state dir's locks", sig), sig)
		}
		err = <-done // delivering: deliverAll spools the rest itself
		if res.signal == nil {
			res.signal = sig
		}
	}
	if err != nil {
		f.warn(fmt.Sprintf("state dir: %v; repeats may be mailed again", err))
	}
	if state.Load() == 0 { // no lock: mail it all rather than nothing
		res = send(v, nil)
	}
	return res
}

// spoolAll spools every mail of the verdict as it is, with reason, for
// a run stopped by sig before it could deliver.
func (r *resolved) spoolAll(f *Factory, v *filter.Verdict, now time.Time, reason string, sig os.Signal) outcome {
	res := outcome{lost: map[string]bool{}, signal: sig}
	msgs, err := r.mails(v, nil, now)
	if err != nil {
		f.warn(err.Error())
	}
	for _, m := range msgs {
		r.spoolOrLose(f, m, reason, &res)
	}
	return res
}

// mails renders the report mails a verdict calls for, and the one that
// says which failures are resolved. A mail that cannot be built (a
// subject template that fails on this verdict) becomes a plain built-in
// mail that says why: the alert is never dropped. The error is only
// what to warn of.
func (r *resolved) mails(v *filter.Verdict, resolvedStates []filter.Resolved, now time.Time) ([]outgoing, error) {
	msgs, err := r.mail.messages(v, now, r.host)
	if len(resolvedStates) == 0 {
		return msgs, err
	}
	m, rerr := report.BuildResolved(resolvedStates, r.mail.options(now, r.host))
	if rerr != nil {
		return msgs, fmt.Errorf("resolved mail: %w", rerr)
	}
	o, rerr := r.mail.outgoing(m)
	if rerr != nil {
		return msgs, fmt.Errorf("resolved mail: %w", rerr)
	}
	for _, s := range resolvedStates {
		o.minions = append(o.minions, s.Minion)
	}
	return append(msgs, o), err
}
