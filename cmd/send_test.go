package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
)

// transportArgs point saltmail at a test server, trusting its CA.
func transportArgs(t *testing.T, s *smtptest.Server) []string {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--smtp-host", s.Host, "--smtp-port", strconv.Itoa(s.Port), "--smtp-ca-file", ca, "--retry-backoff", "10ms"}
}

// smtpArgs are what sending needs: the server, a spool, a state dir of
// its own and a sender.
func smtpArgs(t *testing.T, s *smtptest.Server, spool string) []string {
	return append(transportArgs(t, s), "--spool-dir", spool, "--state-dir", t.TempDir(), "--from", "salt@example.com")
}

// flushArgs are what flush needs: the server and the spool.
func flushArgs(t *testing.T, s *smtptest.Server, spool string) []string {
	return append(transportArgs(t, s), "--spool-dir", spool)
}

func TestSendDelivers(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	spool := t.TempDir()
	f, out, errb := fixedFactory(t, "")
	args := append([]string{"--to", "ops@example.com", "--bcc", "audit@example.com", corpus("master/salt.state.apply.mixed.json.out")}, smtpArgs(t, s, spool)...)
	if code := Main(f, args); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if out.Len() != 0 || errb.Len() != 0 {
		t.Errorf("not silent: %q %q", out, errb)
	}
	got := s.Messages()
	if len(got) != 1 || strings.Join(got[0].To, ",") != "ops@example.com,audit@example.com" {
		t.Fatalf("server got %+v", got)
	}
	if !bytes.Contains(got[0].Data, []byte("Subject: [salt] 3 minions: 1 failed, 1 changed")) || bytes.Contains(got[0].Data, []byte("audit@")) {
		t.Errorf("message:\n%s", got[0].Data[:400])
	}
}

func TestSendSilentWhenClean(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	f, out, errb := fixedFactory(t, "")
	args := append([]string{"--to", "ops@example.com", corpus("master/salt.state.apply.nochange.json.out")}, smtpArgs(t, s, t.TempDir())...)
	if code := Main(f, args); code != 0 || out.Len()+errb.Len() != 0 || len(s.Messages()) != 0 {
		t.Fatalf("exit %d, out %q, err %q, %d mails", code, out, errb, len(s.Messages()))
	}
}

// 5xx: no retry, the mail is spooled, exit 1; later flush delivers the
// very bytes that would have been sent.
func TestSendSpoolsThenFlushDelivers(t *testing.T) {
	down := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, FailData: []error{smtptest.Perm}})
	spool := t.TempDir()
	f, _, errb := fixedFactory(t, "")
	code := Main(f, append([]string{"--to", "ops@example.com", "--bcc", "audit@example.com", corpus("local/state.apply.failures.json.out")}, smtpArgs(t, down, spool)...))
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	files, _ := filepath.Glob(filepath.Join(spool, "*.eml"))
	if len(files) != 1 || !strings.Contains(errb.String(), "spooled to "+files[0]) || !strings.Contains(errb.String(), "554") {
		t.Fatalf("spool %v, stderr %q", files, errb)
	}
	spooled, _ := os.ReadFile(files[0])

	up := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	f, _, errb = fixedFactory(t, "")
	if code := Main(f, append([]string{"flush"}, flushArgs(t, up, spool)...)); code != 0 {
		t.Fatalf("flush exit %d: %s", code, errb)
	}
	got := up.Messages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, spooled) || strings.Join(got[0].To, ",") != "ops@example.com,audit@example.com" {
		t.Fatalf("flushed %+v", got)
	}
	if rest, _ := os.ReadDir(spool); len(rest) != 0 {
		t.Errorf("spool not empty: %v", rest)
	}
}

// A recipient the server refuses does not cost the others the alert;
// the spool keeps the message for it alone, and a flush that reaches
// part of a spooled envelope keeps the rest only.
func TestSendRefusedRecipient(t *testing.T) {
	const ops, gone, busy = "ops@example.com", "gone@example.com", "busy@example.com"
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, RefuseRcpt: map[string][]error{
		gone: {smtptest.NoMailbox},
		busy: {smtptest.MailboxBusy, smtptest.MailboxBusy, smtptest.MailboxBusy, smtptest.MailboxBusy},
	}})
	spool := t.TempDir()
	f, _, errb := fixedFactory(t, "")
	code := Main(f, append([]string{"--to", ops, "--to", gone, "--bcc", busy, corpus("local/state.apply.failures.json.out")}, smtpArgs(t, s, spool)...))
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if got := s.Messages(); len(got) != 1 || strings.Join(got[0].To, ",") != ops {
		t.Fatalf("server got %+v", got)
	}
	env := spooledEnvelopes(t, spool)
	if len(env) != 1 || strings.Join(env[0].To, ",") != gone+","+busy || !strings.Contains(errb.String(), "no such user") {
		t.Fatalf("spooled %+v, stderr %q", env, errb)
	}

	// The flush reaches gone now, busy still not: busy alone stays.
	up := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, RefuseRcpt: map[string][]error{
		busy: {smtptest.MailboxBusy, smtptest.MailboxBusy, smtptest.MailboxBusy, smtptest.MailboxBusy},
	}})
	f, _, errb = fixedFactory(t, "")
	if code := Main(f, append([]string{"flush"}, flushArgs(t, up, spool)...)); code != 1 {
		t.Fatalf("flush exit %d: %s", code, errb)
	}
	env = spooledEnvelopes(t, spool)
	if got := up.Messages(); len(got) != 1 || strings.Join(got[0].To, ",") != gone || len(env) != 1 || strings.Join(env[0].To, ",") != busy {
		t.Fatalf("flushed %+v, spool left %+v", got, env)
	}
	f, _, errb = fixedFactory(t, "")
	if code := Main(f, append([]string{"flush"}, flushArgs(t, up, spool)...)); code != 0 {
		t.Fatalf("second flush exit %d: %s", code, errb)
	}
	if got := up.Messages(); len(got) != 2 || strings.Join(got[1].To, ",") != busy {
		t.Fatalf("flushed %+v", got)
	}
}

func spooledEnvelopes(t *testing.T, dir string) []deliver.Envelope {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.env"))
	var envs []deliver.Envelope
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e deliver.Envelope
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e)
	}
	return envs
}

func TestSendServerDown(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	s.Close()
	spool := t.TempDir()
	f, _, errb := fixedFactory(t, `{"web1": "Minion did not return. [No response]"}`)
	code := Main(f, append([]string{"--to", "ops@example.com"}, smtpArgs(t, s, spool)...))
	files, _ := filepath.Glob(filepath.Join(spool, "*.eml"))
	if code != 1 || len(files) != 1 || !strings.Contains(errb.String(), "after 4 tries") {
		t.Fatalf("exit %d, spool %v, stderr %q", code, files, errb)
	}
}

// An unreadable input is news: the mail about it goes out, then exit 3.
func TestSendUnreadableInput(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	f, _, errb := fixedFactory(t, `{"web1": {"test_|-a_|-a_|-f": {"result": false, "changes": {}, "__run_num__": 0}}}`+"\n{\"web2\": {")
	code := Main(f, append([]string{"--to", "ops@example.com"}, smtpArgs(t, s, t.TempDir())...))
	if code != 3 || len(s.Messages()) != 1 || !strings.Contains(errb.String(), "stdin: line 2") {
		t.Fatalf("exit %d, %d mails, stderr %q", code, len(s.Messages()), errb)
	}
	if !bytes.Contains(s.Messages()[0].Data, []byte("input unreadable")) {
		t.Error("the mail does not say the input was cut")
	}
}

func TestTestMail(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, Users: map[string]string{"salt": "pw"}})
	f, out, errb := fixedFactory(t, "")
	f.Getenv = func(k string) string { return map[string]string{"SALTMAIL_SMTP_PASSWORD": "pw"}[k] }
	code := Main(f, append([]string{"test-mail", "--to", "ops@example.com", "--smtp-user", "salt", "--from", "salt@example.com"}, transportArgs(t, s)...))
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	for _, step := range []string{"connect:  connected to 127.0.0.1:", "starttls: TLS 1.3", "auth:     authenticated as salt with PLAIN", "accepted: the server accepted the message for ops@example.com"} {
		if !strings.Contains(out.String(), step) {
			t.Errorf("output lacks %q:\n%s", step, out)
		}
	}
	// A wrong password: the step that failed is named, exit 1.
	f, out, _ = fixedFactory(t, "")
	f.Getenv = func(k string) string { return map[string]string{"SALTMAIL_SMTP_PASSWORD": "wrong"}[k] }
	code = Main(f, append([]string{"test-mail", "--to", "ops@example.com", "--smtp-user", "salt", "--from", "salt@example.com"}, transportArgs(t, s)...))
	if code != 1 || !strings.Contains(out.String(), "FAILED   auth: 454") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// Two senders at once spool their mail while the server refuses it;
// then two flushes at once deliver each message exactly once.
func TestConcurrentSendersAndFlushes(t *testing.T) {
	down := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, FailData: []error{smtptest.Perm, smtptest.Perm, smtptest.Perm, smtptest.Perm}})
	spool := t.TempDir()
	inputs := []string{corpus("local/state.apply.failures.json.out"), corpus("local/state.apply.changes.json.out")}
	var wg sync.WaitGroup
	for _, in := range inputs {
		wg.Add(1)
		go func(in string) {
			defer wg.Done()
			f, _, errb := fixedFactory(t, "")
			if code := Main(f, append([]string{"--to", "ops@example.com", in}, smtpArgs(t, down, spool)...)); code != 1 {
				t.Errorf("%s: exit %d: %s", in, code, errb)
			}
		}(in)
	}
	wg.Wait()
	if files, _ := filepath.Glob(filepath.Join(spool, "*.eml")); len(files) != 2 {
		t.Fatalf("spooled: %v", files)
	}
	up := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, _, errb := fixedFactory(t, "")
			if code := Main(f, append([]string{"flush"}, flushArgs(t, up, spool)...)); code != 0 {
				t.Errorf("flush: exit %d: %s", code, errb)
			}
		}()
	}
	wg.Wait()
	got := up.Messages()
	if len(got) != 2 || bytes.Equal(got[0].Data, got[1].Data) {
		t.Fatalf("%d messages delivered, want the 2 spooled ones once each", len(got))
	}
	if rest, _ := filepath.Glob(filepath.Join(spool, "*")); len(rest) != 0 {
		t.Errorf("left in the spool: %v", rest)
	}
}
