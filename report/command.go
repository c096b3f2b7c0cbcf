package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"gopkg.in/gomail.v2"
)

// CommandFailure is a wrapped command (saltmail run) that failed
// without printing usable JSON: the master was down, authentication
// failed, it timed out. The mail says so the way cronic does for cron.
type CommandFailure struct {
	Command []string
	Status  string // "exit status 2", "killed after 1h0m0s"
	Host    string
	Stderr  string // the tail of its stderr
	Stdout  string // the lines it printed that were not JSON (their start)
	// Output is the report of the Salt output it printed, when it
	// printed some that shows no failure: the text part of its mail.
	Output string
}

var commandTmpl = template.Must(template.New("cmd").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="margin:0;padding:16px;font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#212121">
<p style="margin:0 0 12px 0;font-size:16px;font-weight:bold;color:#c62828">{{.Head}}</p>
<p style="margin:0 0 4px 0">Command:</p><pre style="margin:0 0 12px 0;padding:8px;background:#f5f5f5;white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:12px">{{.Cmd}}</pre>
{{- if .Stderr}}<p style="margin:0 0 4px 0">Its stderr ended with:</p><pre style="margin:0 0 12px 0;padding:8px;background:#fbe9e7;color:#b71c1c;white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:12px">{{.Stderr}}</pre>{{end}}
{{- if .Stdout}}<p style="margin:0 0 4px 0">It printed on stdout (not JSON):</p><pre style="margin:0;padding:8px;background:#f5f5f5;white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:12px">{{.Stdout}}</pre>{{end}}
{{- if .Output}}<p style="margin:12px 0 4px 0">Its output shows:</p><pre style="margin:0;padding:8px;background:#f5f5f5;white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:12px">{{.Output}}</pre>{{end}}
</body></html>
`))

// BuildCommandFailure renders the mail about a failed command.
func BuildCommandFailure(c CommandFailure, o MailOptions) (*gomail.Message, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	cmdline := strings.Join(c.Command, " ")
	head := fmt.Sprintf("The command failed on %s (%s) and printed no usable Salt output.", c.Host, c.Status)
	if c.Output != "" {
		head = fmt.Sprintf("The command failed on %s (%s), though its output shows no failed state and no error.", c.Host, c.Status)
	}
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\nCommand:\n    %s\n", head, cmdline)
	if c.Stderr != "" {
		fmt.Fprintf(&text, "\nIts stderr ended with:\n%s\n", indent(c.Stderr))
	}
	if c.Stdout != "" {
		fmt.Fprintf(&text, "\nIt printed on stdout (not JSON):\n%s\n", indent(c.Stdout))
	}
	if c.Output != "" {
		fmt.Fprintf(&text, "\nIts output shows:\n\n%s", c.Output)
	}
	var html bytes.Buffer
	err := commandTmpl.Execute(&html, map[string]string{"Head": head, "Cmd": cmdline, "Stderr": c.Stderr, "Stdout": c.Stdout, "Output": c.Output})
	if err != nil {
		return nil, err
	}
	m := gomail.NewMessage()
	setHeaders(m, o, clean(fmt.Sprintf("[salt] command failed on %s: %s (%s)", c.Host, cmdline, c.Status), maxSubject))
	m.SetHeader("X-Salt-Command-Status", clean(c.Status, maxHeaderValue))
	m.SetBody("text/plain", stripEsc(text.String()))
	m.AddAlternative("text/html", html.String())
	return m, nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + stripEsc(l)
	}
	return strings.Join(lines, "\n")
}

// BuildTest renders the short message of `saltmail test-mail`.
func BuildTest(host, via string, o MailOptions) (*gomail.Message, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	m := gomail.NewMessage()
	setHeaders(m, o, clean("[salt] saltmail test from "+host, maxSubject))
	m.SetBody("text/plain", fmt.Sprintf("This is a test message from saltmail on %s, sent through %s.\nWhen Salt states fail or change, the alerts will come the same way.\n", host, via))
	return m, nil
}
