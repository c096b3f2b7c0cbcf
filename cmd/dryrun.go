package cmd

import (
	"fmt"
	"io"
	"net/mail"
	"strings"
	"syscall"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/spf13/cobra"
)

// addDryRunFlag is --dry-run of the sending commands.
func addDryRunFlag(c *cobra.Command, dry *bool) {
	c.Flags().BoolVar(dry, "dry-run", false, "say on stdout what would be mailed to whom; deliver, spool and remember nothing")
}

// dryRunSend is `saltmail --dry-run`: the real job up to delivery. The
// configuration is resolved as for sending (a broken one is exit 2, as
// it would be, but no alert is spooled for it), the state dir is read
// without its locks, as render does, and nothing is written anywhere.
func dryRunSend(opts *SendOptions) error {
	f := opts.IO
	r, err := resolve(f, &opts.Config, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	v, readErr := r.readInputs(f, opts.Files, opts.Base64)
	printDiagnostics(f.Stderr, v, opts.Verbose)
	if err := r.showNews(f, v, f.now()); err != nil {
		return err
	}
	if readErr != nil {
		return &exitError{code: 3, err: readErr}
	}
	return nil
}

// runDryRun is the end of `saltmail run --dry-run`, after the command
// ran: the mail it would send (about the command's failure, or its
// news), and the exit status run would have.
func (r *resolved) runDryRun(f *Factory, command []string, c child, failure bool, now time.Time) error {
	if failure {
		o, err := r.commandFailure(command, c.status, c.stderr, c.v, now)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		if err := r.showDryRun(f.Stdout, []outgoing{o}); err != nil {
			return err
		}
	} else if err := r.showNews(f, c.v, now); err != nil {
		return err
	}
	switch {
	case c.signal != nil:
		n := 1
		if s, ok := c.signal.(syscall.Signal); ok {
			n = 128 + int(s)
		}
		return &exitError{code: n, err: fmt.Errorf("stopped by %v", c.signal)}
	case c.code != 0:
		return &exitError{code: c.code}
	case c.readErr != nil:
		return &exitError{code: 3, err: fmt.Errorf("output of %s: %w", command[0], c.readErr)}
	}
	return nil
}

// showNews shows the mails the verdict calls for once what the state
// dir says was reported is left out.
func (r *resolved) showNews(f *Factory, v *filter.Verdict, now time.Time) error {
	msgs, err := r.news(v, now)
	if err != nil {
		f.warn(err.Error()) // the plain mail that would go instead is shown
	}
	return r.showDryRun(f.Stdout, msgs)
}

// showDryRun says what would be mailed: per message its subject,
// sender, every recipient (Bcc, in no header, included) and size, and
// the transport it would go through.
func (r *resolved) showDryRun(w io.Writer, msgs []outgoing) error {
	var b strings.Builder
	if len(msgs) == 0 {
		b.WriteString("dry run: nothing would be mailed (nothing failed, changed, is pending or in error that was not reported already)\n")
	} else {
		mails := "1 mail"
		if len(msgs) > 1 {
			mails = fmt.Sprintf("%d mails", len(msgs))
		}
		fmt.Fprintf(&b, "dry run: %s would go through %s; nothing was sent, spooled or remembered\n", mails, r.send.what)
	}
	p := r.mail
	for i, m := range msgs {
		fmt.Fprintf(&b, "\nmail %d of %d: %s\n", i+1, len(msgs), m.subject)
		fmt.Fprintf(&b, "  From: %s\n", addrList([]*mail.Address{p.head.From}))
		for _, h := range []struct {
			name  string
			addrs []*mail.Address
		}{{"To", p.head.To}, {"Cc", p.head.Cc}, {"Bcc", p.bcc}} {
			if len(h.addrs) > 0 {
				fmt.Fprintf(&b, "  %s: %s\n", h.name, addrList(h.addrs))
			}
		}
		fmt.Fprintf(&b, "  size: %d bytes\n", len(m.data))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("write: %w", err)}
	}
	return nil
}

// addrList is the addresses as a person reads them: "Ops <ops@x>",
// or the bare address.
func addrList(addrs []*mail.Address) string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.Address
		if a.Name != "" {
			out[i] = fmt.Sprintf("%s <%s>", a.Name, a.Address)
		}
	}
	return strings.Join(out, ", ")
}
