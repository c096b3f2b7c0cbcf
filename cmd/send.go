package cmd

import (
	"github.com/spf13/cobra"
)

// SendOptions are the inputs of `saltmail [FILE...]`, the real job.
type SendOptions struct {
	IO      *Factory
	Files   []string
	Verbose bool
	// Base64: the input is base64 of the JSON, as the reactor example
	// sends it (cmd.run rewrites backslash-n pairs in its stdin).
	Base64 bool
	// DryRun: say what would be mailed, and change nothing.
	DryRun bool
	Config configFlags
}

// usesSend: the real job uses every group of settings.
const usesSend = useInput | useRules | useAddresses | useMail | useTransport | useSpool | useMemory

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
(after the mail about it was delivered or spooled).

--dry-run says on stdout what would be mailed to whom (subject, From,
every recipient with Bcc, size), and delivers, spools and remembers
nothing.`

func runSend(opts *SendOptions) error {
	if opts.DryRun {
		return dryRunSend(opts)
	}
	f := opts.IO
	r, err := resolve(f, &opts.Config, nil)
	if err != nil {
		return keepDespiteConfig(f, err, readDefaults(f, opts.Files, opts.Base64), "saltmail")
	}
	v, readErr := r.readInputs(f, opts.Files, opts.Base64)
	printDiagnostics(f.Stderr, v, opts.Verbose)
	res := r.sendNews(f, v, f.now(), opts.Verbose)
	switch {
	case res.signal != nil:
		return res.interrupted()
	case readErr != nil:
		return &exitError{code: 3, err: readErr}
	case res.spooled > 0 || len(res.lost) > 0:
		return &exitError{code: 1}
	}
	return nil
}

// addReadFlags are the flags of every command that reads Salt output
// beside its settings.
func addReadFlags(c *cobra.Command, verbose, b64 *bool, what string) {
	c.Flags().BoolVarP(verbose, "verbose", "v", false, what)
	c.Flags().BoolVar(b64, "base64", false, "the input is base64-encoded JSON (what the reactor example sends)")
}
