package cmd

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/saltmail/saltmail/deliver"
)

// outcome is what became of a run's mails.
type outcome struct {
	spooled int
	// lost: minions whose mail reached neither the server nor the
	// spool (it went to stderr): not recorded as reported.
	lost map[string]bool
	// signal stopped the delivery; the rest was spooled.
	signal os.Signal
}

// interrupted is the exit of a run stopped by a signal, as a shell
// reports it: 128 + the signal's number.
func (o outcome) interrupted() error {
	n := 1
	if s, ok := o.signal.(syscall.Signal); ok {
		n = 128 + int(s)
	}
	return &exitError{code: n, err: fmt.Errorf("stopped by %v; what was not delivered is spooled", o.signal)}
}

// deliverAll delivers each message, spooling those that fail. SIGTERM,
// SIGINT or SIGHUP (a cron time-out, systemd stopping the master) stops
// it: the message in flight and the rest are spooled at once, so the
// caller can record them and exit. After a failure to reach the server
// at all, the rest is spooled at once. Should the in-flight message reach
// the server all the same, it is sent twice: no loss comes first.
func (r *resolved) deliverAll(f *Factory, msgs []outgoing, verbose bool) outcome {
	res := outcome{lost: map[string]bool{}}
	if len(msgs) == 0 {
		return res
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var down error // a connection-level failure: the next message would fail alike
	for _, m := range msgs {
		if res.signal != nil {
			r.spoolOrLose(f, m, fmt.Sprintf("not tried: saltmail was stopped by %v", res.signal), &res)
			continue
		}
		if down != nil {
			r.spoolOrLose(f, m, fmt.Sprintf("not tried: %s failed just before: %v", r.send.what, down), &res)
			continue
		}
		type sent struct {
			tries int
			err   error
		}
		done := make(chan sent, 1)
		go func() {
			tries, err := deliver.Send(r.send.dial, m.env.From, m.env.To, m.data, r.send.retry)
			done <- sent{tries, err}
		}()
		select {
		case s := <-done:
			if s.err == nil {
				if verbose {
					fmt.Fprintf(f.Stderr, "saltmail: delivered %q through %s\n", m.subject, r.send.what)
				}
				continue
			}
			if serverDown(s.err, m.env.To) {
				down = s.err // a circuit breaker: 500 minions must not each pay the retries
			}
			// Only those the message did not reach wait in the spool.
			m.env.To = deliver.Undelivered(s.err, m.env.To)
			r.spoolOrLose(f, m, fmt.Sprintf("%s after %d tries: %v", r.send.what, s.tries, s.err), &res)
		case sig := <-sigs:
			res.signal = sig
			r.spoolOrLose(f, m, fmt.Sprintf("interrupted by %v while delivering through %s", sig, r.send.what), &res)
		}
	}
	return res
}

// spoolOrLose keeps a message that was not delivered, counting it in
// res: spooled, or (the spool failed too) lost to stderr.
func (r *resolved) spoolOrLose(f *Factory, m outgoing, reason string, res *outcome) {
	if r.keep(f, m, reason) {
		res.spooled++
		return
	}
	for _, id := range m.minions {
		res.lost[id] = true
	}
}

// keep spools a message that could not be delivered. Should even that
// fail, the message goes to stderr with its envelope (Bcc recipients
// are in no header): cron mails stderr to someone.
func (r *resolved) keep(f *Factory, m outgoing, reason string) bool {
	env := m.env
	env.Reason, env.Spooled = reason, f.now()
	path, err := r.spool.Put(env, m.data)
	if err != nil {
		fmt.Fprintf(f.Stderr, "saltmail: delivery failed: %s; spooling failed too: %v; the message follows\n", reason, err)
		fmt.Fprintf(f.Stderr, "saltmail: envelope: MAIL FROM:<%s> RCPT TO:<%s>\n", env.From, strings.Join(env.To, ">, <"))
		f.Stderr.Write(m.data)
		return false
	}
	fmt.Fprintf(f.Stderr, "saltmail: delivery failed: %s; spooled to %s (saltmail flush sends it)\n", reason, path)
	return true
}

// serverDown says whether a failure is the server's, not the message's:
// it could not be reached, or it refused this message for now to every
// recipient (4xx at MAIL FROM: greylisting, a rate limit, a full
// queue). The next message would fare the same, so it is not tried.
func serverDown(err error, to []string) bool {
	if deliver.IsConnectionFailure(err) {
		return true
	}
	return deliver.IsTemporary(err) && len(deliver.Undelivered(err, to)) == len(to)
}
