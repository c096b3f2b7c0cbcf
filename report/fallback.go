package report

import (
	"fmt"

	"github.com/saltmail/saltmail/filter"
	"gopkg.in/gomail.v2"
)

// BuildFallback is the plain mail sent when Build failed on a verdict
// that is news: the alert must not be lost to a rendering fault. It
// uses only built-in parts (the default subject, the text layout) and
// says why the usual mail could not be made.
func BuildFallback(v *filter.Verdict, cause error, o MailOptions) (*gomail.Message, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	st, err := ParseSubject("")
	if err != nil {
		return nil, err
	}
	subject, err := Subject(st, v)
	if err != nil {
		subject = "[salt] " + v.Status.String()
	}
	limit := o.PartLimit
	if limit <= 0 {
		limit = DefaultPartLimit
	}
	text, _ := Text(v, limit)
	body := fmt.Sprintf("saltmail could not build its usual report mail: %s\n"+
		"This plain mail is sent instead; fix the setting named above.\n\n%s", clean(cause.Error(), 2000), text)
	m := gomail.NewMessage()
	setHeaders(m, o, subject)
	m.SetBody("text/plain", body)
	return m, nil
}
