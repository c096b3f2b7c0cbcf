package cmd

import (
	"fmt"

	"github.com/saltmail/saltmail/report/deliver"
	"github.com/spf13/cobra"
)

// SendOptions are the inputs of `saltmail [FILE...]`, the real job.
type SendOptions struct {
	IO      *Factory
	Files   []string
	Verbose bool
	Input   inputOptions
	Config  configFlags
}

// sendLong is the root command's help.
const sendLong = `saltmail reads Salt job returns as JSON (FILEs, or stdin when there is
none or a FILE is -): the output of salt --out=json (streamed or
--static), salt-call --out=json, a reactor event, salt-run
jobs.lookup_jid or state.orchestrate. When a state failed, changed
something or is pending, or a minion is in error, it mails a report;
otherwise it exits 0 and says nothing.

Delivery settings come from /etc/salt/saltmail.yaml (--config), then
SALTMAIL_* variables, then flags. Mail that cannot be delivered after
retries is spooled for 'saltmail flush'.

Exit status: 0 delivered, or nothing to send; 1 delivery failed and the
mail is spooled; 2 usage or configuration error; 3 input unreadable
(after the mail about it was delivered or spooled).`

func runSend(opts *SendOptions) error {
	f := opts.IO
	s, err := prepare(f, &opts.Config, &opts.Input, nil)
	if err != nil {
		return err
	}
	v, readErr := readInputs(f, opts.Files, opts.Input)
	printDiagnostics(f.Stderr, v, opts.Verbose)
	now := f.now()
	msgs, err := s.plan.news(v, s.store, s.cfg.policy(), now, s.host, false)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	spooled := deliverAll(f, s.cfg, s.d, msgs, opts.Verbose)
	if readErr != nil {
		return &exitError{code: 3, err: readErr}
	}
	if spooled > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// deliverAll delivers each message, spooling those that fail, and
// returns how many were spooled.
func deliverAll(f *Factory, cfg *Config, d *delivery, msgs []outgoing, verbose bool) int {
	spooled := 0
	for _, m := range msgs {
		tries, err := deliver.Send(d.dial, m.from, m.rcpt, m.data, d.retry)
		if err == nil {
			if verbose {
				fmt.Fprintf(f.Stderr, "saltmail: delivered %q through %s\n", m.subject, d.what)
			}
			continue
		}
		spooled++
		// Only those the message did not reach wait in the spool.
		m.rcpt = deliver.Undelivered(err, m.rcpt)
		keep(f, cfg, m, fmt.Sprintf("%s after %d tries: %v", d.what, tries, err))
	}
	return spooled
}

// keep spools a message that could not be delivered. Should even that
// fail, the message goes to stderr: cron mails stderr to someone.
func keep(f *Factory, cfg *Config, m outgoing, reason string) {
	sp := cfg.spool(f.getenv)
	path, err := sp.Put(deliver.Envelope{From: m.from, To: m.rcpt, Reason: reason, Spooled: f.now()}, m.data)
	if err != nil {
		fmt.Fprintf(f.Stderr, "saltmail: delivery failed: %s; spooling failed too: %v; the message follows\n", reason, err)
		f.Stderr.Write(m.data)
		return
	}
	fmt.Fprintf(f.Stderr, "saltmail: delivery failed: %s; spooled to %s (saltmail flush sends it)\n", reason, path)
}

func newSendFlags(c *cobra.Command, opts *SendOptions) {
	c.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "say on stderr what was ignored and delivered")
	addConfigFlags(c.Flags(), &opts.Config)
	addInputFlags(c.Flags(), &opts.Input)
}
