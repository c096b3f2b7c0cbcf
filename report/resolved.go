package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/saltmail/saltmail/filter"
	"gopkg.in/gomail.v2"
)

var resolvedTmpl = template.Must(template.New("resolved").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="margin:0;padding:16px;font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#212121">
<p style="margin:0 0 12px 0;font-size:16px;font-weight:bold;color:#2e7d32">{{.Head}}</p>
<table cellpadding="4" cellspacing="0" style="border-collapse:collapse">
<tr style="background:#eeeeee"><th align="left" style="border:1px solid #bdbdbd">Minion</th><th align="left" style="border:1px solid #bdbdbd">State</th><th align="left" style="border:1px solid #bdbdbd">Failing since</th><th align="left" style="border:1px solid #bdbdbd">Last comment</th></tr>
{{- range .Rows}}
<tr><td style="border:1px solid #bdbdbd">{{.Minion}}</td><td style="border:1px solid #bdbdbd">{{.State}}</td><td style="border:1px solid #bdbdbd">{{.Since}}</td><td style="border:1px solid #bdbdbd;white-space:pre-wrap">{{.Comment}}</td></tr>
{{- end}}
</table>
</body></html>
`))

type resolvedRow struct{ Minion, State, Since, Comment string }

// BuildResolved renders the short mail that says failures are over.
func BuildResolved(rs []filter.Resolved, o MailOptions) (*gomail.Message, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	var minions []string
	seen := map[string]bool{}
	var rows []resolvedRow
	for _, r := range rs {
		if !seen[r.Minion] {
			seen[r.Minion] = true
			minions = append(minions, r.Minion)
		}
		state := r.Was.ID
		if r.Key == "!error" {
			state = "(the minion's error)"
		} else if r.Was.Function != "" {
			state += " (" + r.Was.Function + ")"
		}
		rows = append(rows, resolvedRow{r.Minion, state, r.Was.First.UTC().Format("2006-01-02 15:04:05 UTC"), r.Was.Comment})
	}
	head := fmt.Sprintf("Resolved: %s that failed succeed%s again.", plural(len(rs), "state"), map[bool]string{true: "s", false: ""}[len(rs) == 1])
	var text strings.Builder
	text.WriteString(head + "\n")
	for _, r := range rows {
		fmt.Fprintf(&text, "\n%s:\n    State: %s\n    Failing since: %s\n    Last comment: %s\n", stripEsc(r.Minion), stripEsc(r.State), r.Since,
			stripEsc(strings.ReplaceAll(r.Comment, "\n", "\n                  ")))
	}
	var html bytes.Buffer
	if err := resolvedTmpl.Execute(&html, map[string]any{"Head": head, "Rows": rows}); err != nil {
		return nil, err
	}
	who := minions[0]
	if len(minions) > 1 {
		who = plural(len(minions), "minion")
	}
	m := gomail.NewMessage()
	setHeaders(m, o, clean(fmt.Sprintf("[salt] %s: resolved: %s", who, plural(len(rs), "state")), maxSubject))
	var ids []string
	for i, id := range minions {
		if i == maxMinionHeaders {
			break
		}
		ids = append(ids, clean(id, maxHeaderValue))
	}
	m.SetHeader("X-Salt-Minion", ids...)
	m.SetHeader("X-Salt-Resolved", "yes")
	m.SetBody("text/plain", text.String())
	m.AddAlternative("text/html", html.String())
	return m, nil
}
