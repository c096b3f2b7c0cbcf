package cmd

import (
	"fmt"
	"strings"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/report"
	"github.com/spf13/cobra"
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
	addConfigFlags(c.Flags(), &opts.Config, useAddresses|useTransport)
	return c
}

func runTestMail(opts *TestMailOptions) error {
	f := opts.IO
	trace := func(step, detail string) { fmt.Fprintf(f.Stdout, "%-9s %s\n", step+":", detail) }
	s, err := resolve(f, &opts.Config, trace)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	now := f.now()
	m, err := report.BuildTest(s.host, s.send.what, s.mail.options(now, s.host))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	o, err := s.mail.outgoing(m)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	fmt.Fprintf(f.Stdout, "sending a test message through %s to %s\n", s.send.what, strings.Join(o.env.To, ", "))
	if _, err := deliver.Send(s.send.dial, o.env.From, o.env.To, o.data, deliver.Retry{Attempts: 1}); err != nil {
		fmt.Fprintf(f.Stdout, "FAILED   %v\n", err)
		return &exitError{code: 1}
	}
	if s.cfg.Sendmail != "" {
		fmt.Fprintf(f.Stdout, "accepted: %s took the message\n", s.cfg.Sendmail)
	}
	return nil
}
