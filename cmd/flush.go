package cmd

import (
	"fmt"

	"github.com/saltmail/saltmail/deliver"
	"github.com/spf13/cobra"
)

// FlushOptions are the inputs of `saltmail flush`.
type FlushOptions struct {
	IO      *Factory
	Verbose bool
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
alerts) may run at once: no message is sent twice.

Exit status: 0 the spool is empty now; 1 some mail is still spooled;
2 configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runFlush(opts)
		},
	}
	c.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "name each message sent")
	addConfigFlags(c.Flags(), &opts.Config, useTransport|useSpool)
	return c
}

func runFlush(opts *FlushOptions) error {
	f := opts.IO
	r, err := resolve(f, &opts.Config, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	d, sp := r.send, r.spool
	send := func(s deliver.Spooled) error {
		_, err := deliver.Send(d.dial, s.Env.From, s.Env.To, s.Msg, d.retry)
		return err
	}
	done := func(s deliver.Spooled, err error) {
		switch {
		case err != nil:
			fmt.Fprintf(f.Stderr, "saltmail: %s: still spooled: %v\n", s.Path, err)
		case opts.Verbose:
			fmt.Fprintf(f.Stderr, "saltmail: %s: sent through %s\n", s.Path, d.what)
		}
	}
	_, left, err := sp.Flush(send, done)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("flush %s: %w", sp.Dir, err)}
	}
	if left > 0 {
		return &exitError{code: 1}
	}
	return nil
}
