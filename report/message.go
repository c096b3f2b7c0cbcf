package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"text/template"
	"time"

	"github.com/saltmail/saltmail/filter"
	"gopkg.in/gomail.v2"
)

// DefaultPartLimit bounds each body part. With the attachment bounded
// too, a mail stays well under the 10 MiB that typical servers accept.
const DefaultPartLimit = 1 << 20

const (
	plainAttachLimit = 512 << 10 // a larger verdict is attached gzipped
	attachLimit      = 3 << 20   // a larger gzipped verdict is left out
	maxHeaderValue   = 200       // characters of one Salt-controlled header value
	maxMinionHeaders = 20        // X-Salt-Minion values in a digest
)

// MailOptions say who gets the mail and how it looks. Time and the
// Message-ID come in as values, so a render is reproducible.
type MailOptions struct {
	From       *mail.Address
	To, Cc     []*mail.Address
	Subject    *template.Template // nil: DefaultSubject
	Date       time.Time
	MessageID  string // "<...@...>"
	PartLimit  int    // bytes per body part; 0: DefaultPartLimit, <0: none
	AttachJSON bool   // attach the verdict even when nothing was cut
}

// Reportable says whether a verdict is news: a minion has an outcome
// that mails (on), Salt said the job could not run or went nowhere, or
// the input could not be read.
func Reportable(v *filter.Verdict, on filter.Outcomes) bool {
	if v.InputError != "" || len(v.SaltErrors) > 0 {
		return true
	}
	for i := range v.Results {
		if on.Wants(&v.Results[i]) {
			return true
		}
	}
	return false
}

// Split makes one verdict per minion with an outcome that mails, for
// --per-minion. An unreadable input adds its reason to each; what Salt
// said instead of returns is a mail of its own.
func Split(v *filter.Verdict, on filter.Outcomes) []*filter.Verdict {
	var out []*filter.Verdict
	if len(v.SaltErrors) > 0 {
		s := &filter.Verdict{Status: filter.Critical, SaltErrors: v.SaltErrors, InputError: v.InputError, Documents: v.Documents}
		if v.InputError != "" {
			s.Status = filter.Unknown
		}
		out = append(out, s)
	}
	for _, m := range v.Results {
		if !on.Wants(&m) {
			continue
		}
		out = append(out, filter.Single(m, v.InputError))
	}
	if len(out) == 0 && v.InputError != "" {
		out = append(out, v) // the unreadable input alone is news
	}
	return out
}

// Build renders a verdict into a complete message.
func Build(v *filter.Verdict, o MailOptions) (*gomail.Message, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	st := o.Subject
	if st == nil {
		var err error
		if st, err = ParseSubject(""); err != nil {
			return nil, err
		}
	}
	subject, err := Subject(st, v)
	if err != nil {
		return nil, err
	}
	limit := o.PartLimit
	if limit == 0 {
		limit = DefaultPartLimit
	}
	text, partial := Text(v, limit)
	html, err := HTML(v, limit)
	if err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}

	m := gomail.NewMessage()
	setHeaders(m, o, subject)
	if jid, _ := jobOf(v); jid != "" {
		m.SetHeader("X-Salt-Jid", clean(jid, maxHeaderValue))
	}
	if ids := reportedMinions(v); len(ids) > 0 {
		m.SetHeader("X-Salt-Minion", ids...)
	}
	var name string
	var data []byte
	if partial || o.AttachJSON {
		if name, data, err = attachment(v); err != nil {
			return nil, err
		}
		if data == nil && partial {
			// The parts point at the attachment: say why there is none.
			const why = "The verdict is too large to attach, even gzipped; `saltmail check -o json` on the same input prints it."
			text += "\n" + why + "\n"
			html = strings.Replace(html, "</body>", `<p style="margin:16px 0 0 0;color:#757575">`+template.HTMLEscapeString(why)+"</p>\n</body>", 1)
		}
	}
	m.SetBody("text/plain", text)
	m.AddAlternative("text/html", html)
	if data != nil {
		m.Attach(name, gomail.SetCopyFunc(func(w io.Writer) error {
			_, err := w.Write(data) // from memory: readable any number of times
			return err
		}))
	}
	return m, nil
}

func (o MailOptions) check() error {
	if o.From == nil || len(o.To) == 0 {
		return fmt.Errorf("a mail needs a sender and at least one recipient")
	}
	return nil
}

// setHeaders writes the headers every saltmail message has.
func setHeaders(m *gomail.Message, o MailOptions, subject string) {
	m.SetHeader("From", o.From.String())
	m.SetHeader("To", addrs(o.To)...)
	if len(o.Cc) > 0 {
		m.SetHeader("Cc", addrs(o.Cc)...)
	}
	m.SetHeader("Subject", subject)
	m.SetHeader("Date", m.FormatDate(o.Date))
	if o.MessageID != "" {
		m.SetHeader("Message-ID", clean(o.MessageID, 250))
	}
	// RFC 3834: no auto-responder should answer; the Microsoft header
	// says the same to Exchange.
	m.SetHeader("Auto-Submitted", "auto-generated")
	m.SetHeader("X-Auto-Response-Suppress", "All")
}

func addrs(as []*mail.Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String() // RFC 5322 form, names RFC 2047-encoded
	}
	return out
}

// reportedMinions lists the minions the mail is about, cleaned for a
// header and bounded in number.
func reportedMinions(v *filter.Verdict) []string {
	var ids []string
	for _, m := range v.Results {
		if m.Status == filter.OK {
			continue
		}
		if len(ids) == maxMinionHeaders {
			ids = append(ids, fmt.Sprintf("(and %d more)", countReported(v)-maxMinionHeaders))
			break
		}
		ids = append(ids, clean(m.ID, maxHeaderValue))
	}
	return ids
}

func countReported(v *filter.Verdict) int {
	n := 0
	for _, m := range v.Results {
		if m.Status != filter.OK {
			n++
		}
	}
	return n
}

// attachment returns the verdict as JSON, gzipped when large, or no
// data when even that would make the mail too big to deliver.
func attachment(v *filter.Verdict) (string, []byte, error) {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("verdict json: %w", err)
	}
	if len(raw) <= plainAttachLimit {
		return "saltmail-verdict.json", raw, nil
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		return "", nil, err
	}
	if err := zw.Close(); err != nil {
		return "", nil, err
	}
	if b.Len() > attachLimit {
		return "", nil, nil
	}
	return "saltmail-verdict.json.gz", b.Bytes(), nil
}
