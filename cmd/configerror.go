package cmd

import (
	"bytes"
	"fmt"
	"net/mail"
	"runtime"
	"slices"
	"strings"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
)

// keepDespiteConfig is what a sending command does when its
// configuration cannot be resolved (an unknown key, a missing password
// file): from a reactor or cron, the error is one line in a log nobody
// reads, and the alert must not die with it. It reads the input with
// the built-in defaults and, when it is news, spools a plain mail that
// says why, to the configuration's recipients once it is fixed (flush
// reads them then). The exit stays 2: the configuration is wrong.
func keepDespiteConfig(f *Factory, cfgErr error, read func(filter.Options) *filter.Verdict, what string) error {
	in := filter.DefaultOptions()
	in.Procs, in.MaxValueBytes = runtime.GOMAXPROCS(0), DefaultMaxValue
	v := read(in)
	if !report.Reportable(v, filter.AllOutcomes) {
		return &exitError{code: 2, err: cfgErr}
	}
	host, now := f.hostname(), f.now()
	self := &mail.Address{Address: "saltmail@" + host} // a placeholder: flush writes the real ones
	o := report.MailOptions{From: self, To: []*mail.Address{self}, Date: now, MessageID: messageID(now, host)}
	cause := fmt.Errorf("the configuration failed, so %s used the built-in defaults: %w", what, cfgErr)
	m, err := report.BuildFallback(v, cause, o)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%w; the alert could not be kept: %v", cfgErr, err)}
	}
	p := &mailPlan{head: o}
	out, err := p.outgoing(m)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%w; the alert could not be kept: %v", cfgErr, err)}
	}
	env := deliver.Envelope{From: self.Address, RecipientsFromConfig: true, Reason: "configuration error: " + cfgErr.Error(), Spooled: now}
	sp := defaultSpool(f.Paths)
	path, err := sp.Put(env, out.data)
	if err != nil {
		fmt.Fprintf(f.Stderr, "saltmail: %v\nsaltmail: the alert could not be spooled either (%v); it follows\n", cfgErr, err)
		f.Stderr.Write(out.data)
		return &exitError{code: 2}
	}
	return &exitError{code: 2, err: fmt.Errorf("%w\nsaltmail: the alert is kept in %s: fix the configuration, then saltmail flush sends it", cfgErr, path)}
}

// readDefaults reads the inputs with input options in, for
// keepDespiteConfig.
func readDefaults(f *Factory, files []string, b64 bool) func(filter.Options) *filter.Verdict {
	return func(in filter.Options) *filter.Verdict {
		r := &resolved{input: in, localID: localID(&Config{}, f.Paths.SaltConfigDir, f.hostname())}
		v, _ := r.readInputs(f, files, b64)
		return v
	}
}

// defaultSpool is the spool a configuration error falls back to: the
// one no setting names (spool_dir is in the configuration that failed).
func defaultSpool(p Paths) deliver.Spool { return (&Config{}).spool(p) }

// lastLine is the last line of a command's stderr, bounded.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// readdress gives a message spooled before its recipients were known
// (keepDespiteConfig) the configuration's From, To and Cc headers in
// place of the placeholders; the rest of it is left as it is.
func readdress(msg []byte, from *mail.Address, to, cc []*mail.Address) []byte {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		return msg
	}
	var b bytes.Buffer
	header := func(name string, as []*mail.Address) {
		if len(as) == 0 {
			return
		}
		b.WriteString(name + ": ")
		for i, a := range as {
			if i > 0 {
				b.WriteString(",\r\n ") // folded: a long list stays within the line limit
			}
			b.WriteString(a.String())
		}
		b.WriteString("\r\n")
	}
	header("From", []*mail.Address{from})
	header("To", to)
	header("Cc", cc)
	skipping := false
	for _, l := range bytes.Split(head, []byte("\r\n")) {
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if !skipping {
				b.Write(l)
				b.WriteString("\r\n")
			}
			continue
		}
		name, _, _ := bytes.Cut(l, []byte(":"))
		skipping = slices.Contains([]string{"from", "to", "cc"}, strings.ToLower(string(name)))
		if !skipping {
			b.Write(l)
			b.WriteString("\r\n")
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// addressed gives a mail kept on a configuration error (no recipient
// yet) the configuration's sender and recipients, now that it resolves:
// the envelope (Bcc included) and the message with its headers. flush
// makes the kept entry concrete with it (deliver.Spool.Address), once,
// so that a partial delivery narrows it as any other.
func (r *resolved) addressed(msg []byte) (deliver.Envelope, []byte, error) {
	p, err := r.cfg.mailPlan(r.host, false)
	if err != nil {
		return deliver.Envelope{}, nil, fmt.Errorf("its recipients are the configuration's: %w", err)
	}
	return p.envelope(), readdress(msg, p.head.From, p.head.To, p.head.Cc), nil
}
