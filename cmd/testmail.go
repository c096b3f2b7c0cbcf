package cmd

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/saltmail/saltmail/report/deliver"
	"github.com/spf13/cobra"
	"gopkg.in/gomail.v2"
)

// TestMailOptions are the inputs of `saltmail test-mail`.
type TestMailOptions struct {
	IO     *Factory
	Config configFlags
}

// NewCmdTestMail builds `saltmail test-mail`.
func NewCmdTestMail(f *Factory, runF func(*TestMailOptions) error) *cobra.Command {
	opts := &TestMailOptions{IO: f}
	c := &cobra.Command{
		Use:   "test-mail",
		Short: "Send a test message and say what happened at each step",
		Long: `test-mail sends a short message with the current settings, once, and
prints each step as it succeeds (connect, TLS, auth, accepted), or the
step that failed and why. The first thing to run after configuring.

Exit status: 0 delivered; 1 delivery failed (nothing is spooled);
2 configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runTestMail(opts)
		},
	}
	addConfigFlags(c.Flags(), &opts.Config)
	return c
}

func runTestMail(opts *TestMailOptions) error {
	f := opts.IO
	cfg, err := loadConfig(&opts.Config, f)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	host := f.hostname()
	plan, err := cfg.mailPlan(host)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	trace := func(step, detail string) { fmt.Fprintf(f.Stdout, "%-9s %s\n", step+":", detail) }
	d, err := cfg.delivery(host, trace)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	now := f.now()
	m := gomail.NewMessage()
	m.SetHeader("From", plan.from.String())
	m.SetHeader("To", addrStrings(plan.to)...)
	if len(plan.cc) > 0 {
		m.SetHeader("Cc", addrStrings(plan.cc)...)
	}
	m.SetHeader("Subject", "[salt] saltmail test from "+host)
	m.SetHeader("Date", m.FormatDate(now))
	m.SetHeader("Message-ID", messageID(now, host))
	m.SetHeader("Auto-Submitted", "auto-generated")
	m.SetBody("text/plain", fmt.Sprintf("This is a test message from saltmail on %s, sent through %s.\nWhen Salt states fail or change, the alerts will come the same way.\n", host, d.what))
	o, err := plan.outgoing(m)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	fmt.Fprintf(f.Stdout, "sending a test message through %s to %s\n", d.what, strings.Join(o.rcpt, ", "))
	if _, err := deliver.Send(d.dial, o.from, o.rcpt, o.data, deliver.Retry{Attempts: 1}); err != nil {
		fmt.Fprintf(f.Stdout, "FAILED   %v\n", err)
		return &exitError{code: 1}
	}
	if cfg.Sendmail != "" {
		fmt.Fprintf(f.Stdout, "accepted: %s took the message\n", cfg.Sendmail)
	}
	return nil
}

func addrStrings(as []*mail.Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
