package cmd

import (
	"bytes"
	"encoding/json"
	"io"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
	"github.com/saltmail/saltmail/filter"
)

// readSpy says whether anything read the input.
type readSpy struct{ read bool }

func (r *readSpy) Read([]byte) (int, error) { r.read = true; return 0, io.EOF }

// A subject template that parses but fails on some verdict is a
// configuration error found before the input is read (exit 2): render
// reads nothing; the sending command keeps the alert with the built-in
// subject, as for any configuration error, and sends nothing.
func TestSubjectCheckedBeforeInput(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	for _, tmpl := range []string{`{{.Nope}}`, `{{slice .JID 0 8}}`} {
		f, _, errb := fixedFactory(t, "")
		spy := &readSpy{}
		f.Stdin = spy
		if code := Main(f, []string{"render", "--to", "ops@example.com", "--subject", tmpl}); code != 2 || spy.read || !strings.Contains(errb.String(), "subject (--subject, SALTMAIL_SUBJECT)") {
			t.Errorf("render %s: exit %d, input read %v: %s", tmpl, code, spy.read, errb)
		}
		f, _, errb = fixedFactory(t, "")
		code := Main(f, append([]string{"--to", "ops@example.com", "--subject", tmpl, corpus("master/salt.state.apply.mixed.json.out")}, smtpArgs(t, s, t.TempDir())...))
		if code != 2 || !strings.Contains(errb.String(), "the alert is kept in") {
			t.Errorf("%s: exit %d: %s", tmpl, code, errb)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d mails sent", n)
	}
}

// Should a mail still fail to build (here a template that escaped the
// check), a plain built-in mail says why, and the alert goes.
func TestUnbuildableMailSendsFallback(t *testing.T) {
	v, err := filter.Evaluate(strings.NewReader(`{"web1": {"cmd_|-a_|-/bin/false_|-run": {"result": false, "changes": {}, "comment": "boom", "__run_num__": 0}}}`), "in", filter.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	from, _ := mail.ParseAddress("salt@example.com")
	to, _ := mail.ParseAddress("ops@example.com")
	p := &mailPlan{on: filter.AllOutcomes}
	p.head.From, p.head.To = from, []*mail.Address{to}
	p.head.Subject = template.Must(template.New("s").Option("missingkey=error").Parse(`{{.Nope}}`))
	msgs, err := p.messages(v, time.Date(2026, 11, 25, 10, 15, 2, 0, time.UTC), "master1")
	if err == nil || len(msgs) != 1 {
		t.Fatalf("%d mails, error %v", len(msgs), err)
	}
	if d := string(msgs[0].data); !strings.Contains(d, "could not build its usual report mail") || !strings.Contains(d, "boom") || len(msgs[0].minions) != 1 {
		t.Errorf("the fallback mail lacks the reason or the report:\n%s", d)
	}
}

// When even the spool cannot be written (here no file may grow: ulimit
// -f 0), stderr carries the message and its envelope: the Bcc
// recipients are in no header.
func TestUnspoolableMailKeepsEnvelope(t *testing.T) {
	root, spool := t.TempDir(), t.TempDir()
	argv, _ := json.Marshal([]string{"--config", "/dev/null", "--to", "ops@example.com", "--bcc", "audit@example.com", "--from", "salt@example.com",
		"--smtp-host", "127.0.0.1", "--smtp-port", "1", "--retry-attempts", "1", "--spool-dir", spool, "--state-dir", t.TempDir(),
		corpus("master/salt.state.apply.mixed.json.out")})
	c := exec.Command("sh", "-c", `ulimit -f 0 && exec "$0"`, os.Args[0])
	c.Env = append(os.Environ(), "SALTMAIL_AS_MAIN="+string(argv), "SALTMAIL_TEST_ROOT="+root)
	var errb bytes.Buffer
	c.Stderr = &errb
	_ = c.Run()
	if code := c.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"spooling failed too", "MAIL FROM:<salt@example.com> RCPT TO:<ops@example.com>, <audit@example.com>", "Subject: [salt] 3 minions"} {
		if !bytes.Contains(errb.Bytes(), []byte(want)) {
			t.Errorf("stderr lacks %q:\n%.600s", want, errb.String())
		}
	}
}

// A minion's return over max_value_bytes is an input error with its
// position (exit 3), found before it fills the memory; the admin is
// told, with what was read before it.
func TestValueBound(t *testing.T) {
	capture := corpus("master/salt.state.apply.mixed.json.out")
	f, out, errb := fixedFactory(t, "")
	if code := Main(f, []string{"check", "--max-value-bytes", "1000", capture}); code != 3 || !strings.Contains(out.String()+errb.String(), "a member of more than 1000 bytes") {
		t.Errorf("check: exit %d: %s%s", code, out, errb)
	}
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	f, _, errb = fixedFactory(t, "")
	code := Main(f, append([]string{"--to", "ops@example.com", "--max-value-bytes", "1000", capture}, smtpArgs(t, s, t.TempDir())...))
	if code != 3 || len(s.Messages()) != 1 || !bytes.Contains(s.Messages()[0].Data, []byte("input unreadable")) {
		t.Errorf("send: exit %d, %d mails: %s", code, len(s.Messages()), errb)
	}
	f, _, errb = fixedFactory(t, "")
	if code := Main(f, []string{"check", "--max-value-bytes", "0", capture}); code == 0 || !strings.Contains(errb.String(), "max_value_bytes (--max-value-bytes, SALTMAIL_MAX_VALUE_BYTES): must be positive") {
		t.Errorf("a bound of 0: exit %d: %s", code, errb)
	}
}

// render shows the plain mail that would go when a report cannot be
// built for this verdict (a template that passed the samples), as the
// sending commands send it, and says why.
func TestRenderShowsFallback(t *testing.T) {
	in := `{"a": {"cmd_|-x_|-false_|-run": {"result": false, "changes": {}, "comment": "boom", "__run_num__": 0}}}`
	f, out, errb := fixedFactory(t, in)
	code := Main(f, []string{"render", "--to", "ops@example.com", "--subject", `{{if .Minion}}[{{slice .Minion 0 3}}] {{end}}{{.Summary}}`})
	if code != 0 || !strings.Contains(out.String(), "could not build its usual report mail") || !strings.Contains(errb.String(), "a plain mail goes instead") {
		t.Errorf("exit %d\nstdout %.300s\nstderr %s", code, out, errb)
	}
}

// render only reads the memory: a state dir it may not trust (another
// user's: root previewing on a master run as salt) is left out with a
// warning, not a refusal.
func TestRenderUntrustedStateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a dir to another user needs root")
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	f, out, errb := fixedFactory(t, "")
	code := Main(f, []string{"render", "--format", "eml", "--to", "ops@example.com", "--state-dir", dir, corpus("master/salt.state.apply.mixed.json.out")})
	if code != 0 || !strings.Contains(out.String(), "Subject: [salt] 3 minions") || !strings.Contains(errb.String(), "previewing without the memory") {
		t.Errorf("exit %d\n%.200s\n%s", code, out, errb)
	}
}
