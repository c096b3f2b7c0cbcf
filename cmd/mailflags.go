package cmd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"text/template"
	"time"

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
	"github.com/spf13/pflag"
	"gopkg.in/gomail.v2"
)

// MailSettings are the flags shared by every command that makes mail.
type MailSettings struct {
	From         string
	To, Cc, Bcc  []string
	Subject      string
	PerMinion    bool
	AttachJSON   bool
	MaxPartBytes int
}

func addMailFlags(fs *pflag.FlagSet, s *MailSettings) {
	fs.StringVar(&s.From, "from", s.From, "sender address (default saltmail@<hostname>)")
	listVar(fs, &s.To, "to", "recipient; repeatable and comma-separated")
	listVar(fs, &s.Cc, "cc", "copy recipient; repeatable and comma-separated")
	listVar(fs, &s.Bcc, "bcc", "blind copy recipient (envelope only); repeatable and comma-separated")
	fs.StringVar(&s.Subject, "subject", s.Subject, "subject as a Go text/template (see README)")
	fs.BoolVar(&s.PerMinion, "per-minion", s.PerMinion, "one mail per minion instead of one digest")
	fs.BoolVar(&s.AttachJSON, "attach-json", s.AttachJSON, "always attach the verdict as JSON")
	fs.IntVar(&s.MaxPartBytes, "max-part-bytes", report.DefaultPartLimit, "bound of each body part; larger state blocks are cut")
}

// mailPlan is MailSettings checked and parsed, before any I/O.
type mailPlan struct {
	from        *mail.Address
	to, cc, bcc []*mail.Address
	subject     *template.Template
	perMinion   bool
	attachJSON  bool
	partLimit   int
}

// plan validates the settings; every error names the flag.
func (s *MailSettings) plan(hostname string) (*mailPlan, error) {
	p := &mailPlan{perMinion: s.PerMinion, attachJSON: s.AttachJSON, partLimit: s.MaxPartBytes}
	from := s.From
	if from == "" {
		from = "saltmail@" + hostname
	}
	var err error
	if p.from, err = parseAddr("from", from); err != nil {
		return nil, err
	}
	if p.to, err = parseAddrs("to", s.To); err != nil {
		return nil, err
	}
	if len(p.to) == 0 {
		return nil, fmt.Errorf("--to: at least one recipient is needed")
	}
	if p.cc, err = parseAddrs("cc", s.Cc); err != nil {
		return nil, err
	}
	if p.bcc, err = parseAddrs("bcc", s.Bcc); err != nil {
		return nil, err
	}
	if p.subject, err = report.ParseSubject(s.Subject); err != nil {
		return nil, fmt.Errorf("--subject: %w", err)
	}
	if p.partLimit <= 0 {
		return nil, fmt.Errorf("--max-part-bytes: must be positive")
	}
	return p, nil
}

// parseAddr admits only what net/mail parses: a raw address could
// carry a CR LF into a header.
func parseAddr(flag, s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("--%s %q: %w", flag, s, err)
	}
	return a, nil
}

func parseAddrs(flag string, list []string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, s := range list {
		if strings.TrimSpace(s) == "" {
			continue
		}
		a, err := parseAddr(flag, s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// outgoing is one message and its envelope.
type outgoing struct {
	msg     *gomail.Message
	from    string
	rcpt    []string // To, Cc and Bcc: the envelope, Bcc included
	minions string
}

// messages renders the verdict into the mails it calls for: none when
// nothing is news, one digest, or one per minion.
func (p *mailPlan) messages(v *filter.Verdict, now time.Time, hostname string) ([]outgoing, error) {
	if !report.Reportable(v) {
		return nil, nil
	}
	verdicts := []*filter.Verdict{v}
	if p.perMinion {
		verdicts = report.Split(v)
	}
	var rcpt []string
	for _, list := range [][]*mail.Address{p.to, p.cc, p.bcc} {
		for _, a := range list {
			rcpt = append(rcpt, a.Address)
		}
	}
	var out []outgoing
	for _, one := range verdicts {
		m, err := report.Build(one, report.MailOptions{
			From: p.from, To: p.to, Cc: p.cc, Subject: p.subject,
			Date: now, MessageID: messageID(now, hostname), PartLimit: p.partLimit,
			AttachJSON: p.attachJSON,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, outgoing{msg: m, from: p.from.Address, rcpt: rcpt})
	}
	return out, nil
}

func messageID(now time.Time, hostname string) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("<%s.%s.saltmail@%s>", now.UTC().Format("20060102150405"), hex.EncodeToString(r[:]), hostname)
}
