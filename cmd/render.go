package cmd

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// RenderOptions are the inputs of `saltmail render`.
type RenderOptions struct {
	IO      *Factory
	Files   []string
	Verbose bool
	Base64  bool
	// Format is text, html or eml; "" picks by stdout (previewFormat).
	Format string
	Config configFlags
}

// NewCmdRender builds `saltmail render`.
func NewCmdRender(f *Factory, runF func(*RenderOptions) error) *cobra.Command {
	opts := &RenderOptions{IO: f}
	c := &cobra.Command{
		Use:   "render [FILE...]",
		Short: "Print the mail saltmail would send, and send nothing",
		Long: `render reads Salt job returns like check and writes the mail saltmail
would send to stdout. When nothing failed, changed, is pending or in
error it prints nothing.

--format text prints the text part with the subject on top, html the
HTML part, eml the whole message (RFC 5322: headers, text and HTML
parts), as it would be sent. The default is text on a terminal and eml
when stdout is a file or a pipe. Without a recipient (--to, SALTMAIL_TO
or to: in the config) the mail is addressed to ` + placeholderTo + `,
which no server delivers.
Like saltmail it leaves out what the state dir says was reported
already and adds the mail about resolved failures, but it only reads
the state dir, never writes it (--repeat-interval 0 shows the whole
report).
With --per-minion, or with a resolved mail, eml writes the messages in
mbox form; text and html write them one after another.

Exit status: 0 done (printed or nothing to say), 2 usage error,
3 input unreadable (the mail about what arrived is still printed).`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return runRender(opts)
		},
	}
	addReadFlags(c, &opts.Verbose, &opts.Base64, "say on stderr which returns were ignored")
	c.Flags().StringVar(&opts.Format, "format", "", "text (the text part, subject on top), html (the HTML part) or eml (the message as sent) (default: text on a terminal, eml when piped)")
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(renderFormats, cobra.ShellCompDirectiveNoFileComp))
	addConfigFlags(c.Flags(), &opts.Config, usesSend&^useTransport)
	c.Flags().Lookup("to").Usage = "recipient; repeatable and comma-separated (default " + placeholderTo + ", a placeholder)"
	return c
}

func runRender(opts *RenderOptions) error {
	format, err := previewFormat(opts.IO, opts.Format)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	placeholderRecipient(opts.IO, &opts.Config)
	r, err := resolve(opts.IO, &opts.Config, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	v, readErr := r.readInputs(opts.IO, opts.Files, opts.Base64)
	printDiagnostics(opts.IO.Stderr, v, opts.Verbose)
	now := opts.IO.now()
	msgs, err := r.news(v, now)
	if err != nil {
		// The mails are still there (a plain one where the report could
		// not be built): show them, as the sending commands send them.
		opts.IO.warn(err.Error())
	}
	if err := writePreview(opts.IO.Stdout, msgs, now, format); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("write message: %w", err)}
	}
	if readErr != nil {
		return &exitError{code: 3, err: readErr}
	}
	return nil
}

// writeMessages writes one message as it is, several as an mbox.
func writeMessages(w io.Writer, msgs []outgoing, now time.Time) error {
	if len(msgs) == 1 {
		_, err := w.Write(msgs[0].data)
		return err
	}
	return writeMbox(w, msgs, now)
}

// placeholderRecipient addresses a preview that names no recipient
// anywhere (flag, environment, config file) to placeholderTo, so that
// trying a capture needs no address. The configuration is read once
// more, quietly: resolve reads it for real, and says what is wrong.
func placeholderRecipient(f *Factory, cf *configFlags) {
	quiet := *f
	quiet.Stderr = io.Discard
	if c, err := loadConfig(cf, &quiet); err != nil || len(c.To) > 0 {
		return
	}
	for _, r := range cf.records {
		if r.key == "to" {
			*r.vals = append(*r.vals, placeholderTo)
		}
	}
}
