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
{{- range .Minions}}
<h3 style="margin:16px 0 6px 0;font-size:15px;color:#2e7d32">{{.ID}}</h3>
{{- if .Back}}<p style="margin:0 0 6px 0">{{.Back}}</p>{{end}}
{{- if .States}}
<table cellpadding="4" cellspacing="0" style="border-collapse:collapse">
<tr style="background:#eeeeee"><th align="left" style="border:1px solid #bdbdbd">State</th><th align="left" style="border:1px solid #bdbdbd">Failing since</th><th align="left" style="border:1px solid #bdbdbd">Last comment</th></tr>
{{- range .States}}
<tr><td style="border:1px solid #bdbdbd">{{.State}}</td><td style="border:1px solid #bdbdbd">{{.Since}}</td><td style="border:1px solid #bdbdbd;white-space:pre-wrap">{{.Comment}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- end}}
</body></html>
`))

// resolvedMinion is what is over on one minion: its error (Back says
// how), and the states that failed and succeed again.
type resolvedMinion struct {
	ID     string
	Back   string
	States []resolvedRow
}

type resolvedRow struct{ State, Since, Comment string }

// groupResolved gathers the resolved failures under their minions, in
// the order they come (Suppress sorts them by minion).
func groupResolved(rs []filter.Resolved) (ms []resolvedMinion, states, back int) {
	for _, r := range rs {
		if len(ms) == 0 || ms[len(ms)-1].ID != r.Minion {
			ms = append(ms, resolvedMinion{ID: r.Minion})
		}
		m := &ms[len(ms)-1]
		since := r.Was.First.UTC().Format("2006-01-02 15:04:05 UTC")
		if r.Key == filter.ErrorKey {
			m.Back = "Returns again: it had not returned since " + since + "."
			if !strings.Contains(r.Was.Comment, "did not return") {
				m.Back = "No longer in error since this run (in error since " + since + ": " + r.Was.Comment + ")."
			}
			back++
			continue
		}
		state := r.Was.ID
		if r.Was.Function != "" {
			state += " (" + r.Was.Function + ")"
		}
		m.States = append(m.States, resolvedRow{state, since, r.Was.Comment})
		states++
	}
	return ms, states, back
}

// BuildResolved renders the short mail that says failures are over:
// states that failed and succeed again, and minions that were in error
// (did not return) and are back, grouped by minion.
func BuildResolved(rs []filter.Resolved, o MailOptions) (*gomail.Message, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ms, states, back := groupResolved(rs)
	var news []string
	if states > 0 {
		news = append(news, fmt.Sprintf("%s that failed succeed%s again", plural(states, "state"), map[bool]string{true: "s", false: ""}[states == 1]))
	}
	if back > 0 {
		news = append(news, fmt.Sprintf("%s no longer in error", plural(back, "minion")))
	}
	head := "Resolved: " + strings.Join(news, "; ") + "."
	var text strings.Builder
	text.WriteString(head + "\n")
	for _, m := range ms {
		fmt.Fprintf(&text, "\n%s:\n", stripEsc(m.ID))
		if m.Back != "" {
			fmt.Fprintf(&text, "    %s\n", stripEsc(m.Back))
		}
		for _, r := range m.States {
			fmt.Fprintf(&text, "    State: %s\n    Failing since: %s\n    Last comment: %s\n", stripEsc(r.State), r.Since,
				stripEsc(strings.ReplaceAll(r.Comment, "\n", "\n                  ")))
		}
	}
	var html bytes.Buffer
	if err := resolvedTmpl.Execute(&html, map[string]any{"Head": head, "Minions": ms}); err != nil {
		return nil, err
	}
	m := gomail.NewMessage()
	setHeaders(m, o, clean("[salt] "+resolvedSubject(ms, states, back), maxSubject))
	var ids []string
	for i, rm := range ms {
		if i == maxMinionHeaders {
			break
		}
		ids = append(ids, clean(rm.ID, maxHeaderValue))
	}
	m.SetHeader("X-Salt-Minion", ids...)
	m.SetHeader("X-Salt-Resolved", "yes")
	m.SetBody("text/plain", text.String())
	m.AddAlternative("text/html", html.String())
	return m, nil
}

// resolvedSubject: "web1: resolved: 2 states", "web2: returns again",
// "3 minions: resolved: 4 states, 1 returns again".
func resolvedSubject(ms []resolvedMinion, states, back int) string {
	who := plural(len(ms), "minion")
	if len(ms) == 1 {
		who = ms[0].ID
	}
	var parts []string
	if states > 0 {
		parts = append(parts, "resolved: "+plural(states, "state"))
	}
	if back == 1 && len(ms) == 1 && strings.HasPrefix(ms[0].Back, "Returns again") {
		parts = append(parts, "returns again")
	} else if back > 0 {
		parts = append(parts, fmt.Sprintf("%d no longer in error", back))
	}
	return who + ": " + strings.Join(parts, ", ")
}
