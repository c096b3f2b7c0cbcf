package cmd

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
	"gopkg.in/gomail.v2"
)

// mailPlan is the mail part of a Config, checked and parsed before any
// input is read: the report's options (all but the date and the
// Message-ID, which each message gets anew), the Bcc recipients (in no
// header), and when and how many mails go.
type mailPlan struct {
	head      report.MailOptions
	bcc       []*mail.Address
	perMinion bool
	on        filter.Outcomes
}

// names gives a setting's three names for an error message.
func names(key string) string {
	s, _ := lookup(key)
	if s.noFlag {
		return fmt.Sprintf("%s (%s)", s.key, s.env())
	}
	return fmt.Sprintf("%s (--%s, %s)", s.key, s.flag(), s.env())
}

// mailPlan checks the addresses and, with look, how the report mail
// looks and when it goes.
func (c *Config) mailPlan(hostname string, look bool) (*mailPlan, error) {
	p := &mailPlan{perMinion: c.PerMinion, on: filter.AllOutcomes}
	h := &p.head
	h.PartLimit, h.AttachJSON = c.MaxPartBytes, c.AttachJSON
	from := c.From
	if from == "" {
		from = "saltmail@" + hostname
	}
	var err error
	if h.From, err = parseAddr("from", from); err != nil {
		return nil, err
	}
	if h.To, err = parseAddrs("to", c.To); err != nil {
		return nil, err
	}
	if len(h.To) == 0 {
		return nil, fmt.Errorf("%s: at least one recipient is needed", names("to"))
	}
	if h.Cc, err = parseAddrs("cc", c.Cc); err != nil {
		return nil, err
	}
	if p.bcc, err = parseAddrs("bcc", c.Bcc); err != nil {
		return nil, err
	}
	if !look {
		return p, nil
	}
	if h.Subject, err = report.ParseSubject(c.Subject); err != nil {
		return nil, fmt.Errorf("%s: %w", names("subject"), err)
	}
	if h.PartLimit <= 0 {
		return nil, fmt.Errorf("%s: must be positive", names("max_part_bytes"))
	}
	if p.on, err = filter.ParseOutcomes(c.On); err != nil {
		return nil, fmt.Errorf("%s: %w", names("on"), err)
	}
	return p, nil
}

// parseAddr admits only what net/mail parses: a raw address could carry
// a CR LF into a header.
func parseAddr(key, s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", names(key), s, err)
	}
	return a, nil
}

func parseAddrs(key string, list []string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, s := range list {
		a, err := parseAddr(key, s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// outgoing is one message as the exact bytes to send, with its
// envelope (every recipient, Bcc included).
type outgoing struct {
	env     deliver.Envelope
	data    []byte
	subject string
	// minions it reports on: recorded as reported only once it went
	minions []string
}

// messages renders the verdict into the mails it calls for: none when
// nothing is news, one digest, or one per minion. A verdict whose mail
// cannot be built gets report's plain fallback mail instead; the error
// says what went wrong, and the mails are still there to send.
func (p *mailPlan) messages(v *filter.Verdict, now time.Time, hostname string) ([]outgoing, error) {
	if !report.Reportable(v, p.on) {
		return nil, nil
	}
	verdicts := []*filter.Verdict{v}
	if p.perMinion {
		verdicts = report.Split(v, p.on)
	}
	var out []outgoing
	var errs []error
	for _, one := range verdicts {
		opts := p.options(now, hostname)
		m, err := report.Build(one, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("build the report mail: %w; a plain mail goes instead", err))
			if m, err = report.BuildFallback(one, err, opts); err != nil {
				return out, errors.Join(append(errs, err)...)
			}
		}
		o, err := p.outgoing(m)
		if err != nil {
			return out, errors.Join(append(errs, err)...)
		}
		for _, r := range one.Results {
			o.minions = append(o.minions, r.ID)
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// options are the report's mail options for one message.
func (p *mailPlan) options(now time.Time, hostname string) report.MailOptions {
	o := p.head
	o.Date, o.MessageID = now, messageID(now, hostname)
	return o
}

func (p *mailPlan) outgoing(m *gomail.Message) (outgoing, error) {
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return outgoing{}, fmt.Errorf("write message: %w", err)
	}
	return outgoing{data: b.Bytes(), env: p.envelope(), subject: strings.Join(m.GetHeader("Subject"), " ")}, nil
}

// envelope is the sender and every recipient, Bcc included.
func (p *mailPlan) envelope() deliver.Envelope {
	env := deliver.Envelope{From: p.head.From.Address}
	for _, list := range [][]*mail.Address{p.head.To, p.head.Cc, p.bcc} {
		for _, a := range list {
			env.To = append(env.To, a.Address)
		}
	}
	return env
}

func messageID(now time.Time, hostname string) string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("<%s.%s.saltmail@%s>", now.UTC().Format("20060102150405"), hex.EncodeToString(r[:]), hostname)
}
