package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
)

// A broken configuration in a reactor or cron run keeps the alert in
// the default spool (exit 2 all the same); once the configuration is
// fixed, flush sends it to the configuration's recipients.
func TestConfigErrorKeepsAlert(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	good := "to: [ops@example.com]\nbcc: [audit@example.com]\nfrom: salt@example.com\nsmtp:\n  host: " + s.Host + "\n  port: " + strconv.Itoa(s.Port) + "\n  ca_file: " + ca + "\n"
	for _, c := range []struct {
		name, config, input string
		kept                bool
		fixed               string // added to the good config for flush
	}{
		{"unknown key", good + "repeat_intervall: 1h\n", corpus("master/salt.state.apply.mixed.json.out"), true, ""},
		{"missing password file", good + "  user: saltmail\n  password_file: /nonexistent/saltmail.pass\n", corpus("master/salt.state.apply.mixed.json.out"), true, ""},
		{"nothing to report", good + "repeat_intervall: 1h\n", corpus("master/salt.test.ping.json.out"), false, ""},
		{"fixed with a spool of its own", "to: [ops@example.com\n", corpus("master/salt.state.apply.mixed.json.out"), true, "spool_dir: " + t.TempDir() + "/spool\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _, errb := fixedFactory(t, "")
			cfg := filepath.Join(t.TempDir(), "saltmail.yaml")
			if err := os.WriteFile(cfg, []byte(c.config), 0o600); err != nil {
				t.Fatal(err)
			}
			before := len(s.Messages())
			if code := Main(f, []string{"--config", cfg, c.input}); code != 2 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			if got := strings.Contains(errb.String(), "the alert is kept in "+f.Paths.SpoolDir); got != c.kept {
				t.Fatalf("kept %v, want %v: %s", got, c.kept, errb)
			}
			if err := os.WriteFile(cfg, []byte(good+c.fixed), 0o600); err != nil {
				t.Fatal(err)
			}
			errb.Reset()
			if code := Main(f, []string{"flush", "--config", cfg}); code != 0 {
				t.Fatalf("flush: exit %d: %s", code, errb)
			}
			msgs := s.Messages()[before:]
			if !c.kept {
				if len(msgs) != 0 {
					t.Errorf("%d mails for nothing to report", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("%d mails after the fix", len(msgs))
			}
			m := msgs[0]
			if strings.Join(m.To, " ") != "ops@example.com audit@example.com" || m.From != "salt@example.com" {
				t.Errorf("envelope %s -> %v", m.From, m.To)
			}
			for _, want := range []string{"To: <ops@example.com>\r\n", "From: <salt@example.com>\r\n", "the configuration failed", "1 failed"} {
				if !bytes.Contains(m.Data, []byte(want)) {
					t.Errorf("no %q in\n%.800s", want, m.Data)
				}
			}
			if bytes.Contains(m.Data, []byte("audit@")) {
				t.Error("the Bcc recipient is in a header")
			}
		})
	}
}

// run with a broken configuration still runs its command (cron asked
// for the highstate) and keeps the alert of its output.
func TestRunConfigErrorKeepsAlert(t *testing.T) {
	f, _, errb := fixedFactory(t, "")
	cfg := filepath.Join(t.TempDir(), "saltmail.yaml")
	if err := os.WriteFile(cfg, []byte("to: [ops@example.com]\nrepeat_intervall: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ran := filepath.Join(t.TempDir(), "ran")
	code := Main(f, []string{"run", "--config", cfg, "--", "sh", "-c", "touch " + ran + "; cat " + corpus("master/salt.state.apply.mixed.json.out")})
	if _, err := os.Stat(ran); err != nil || code != 2 || !strings.Contains(errb.String(), "the alert is kept in") {
		t.Errorf("exit %d, ran: %v: %s", code, err == nil, errb)
	}
	kept, _ := filepath.Glob(filepath.Join(f.Paths.SpoolDir, "*.eml"))
	if len(kept) != 1 {
		t.Fatalf("kept %v", kept)
	}
	raw, _ := os.ReadFile(kept[0])
	b, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	if !bytes.Contains(b, []byte("saltmail run used the built-in defaults")) {
		t.Errorf("the kept mail does not say why:\n%.600s", b)
	}
}

// A kept alert is readdressed in the spool before it is first offered,
// so a flush that reaches some recipients keeps it for the others only:
// with one recipient refused for now (450 at RCPT TO) three flushes
// give the other one copy, where each used to give one more.
func TestKeptAlertNarrowed(t *testing.T) {
	for _, c := range []struct {
		name     string
		busy     int            // sessions in which dev@ is refused with 450
		want     map[string]int // copies per recipient after three flushes
		waitsFor string         // the envelope's To left in the spool
	}{
		{"one refused for now", 100, map[string]int{"ops@example.com": 1, "dev@example.com": 0}, "dev@example.com"},
		{"one refused once, then taken", 2, map[string]int{"ops@example.com": 1, "dev@example.com": 1}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			busy := make([]error, c.busy)
			for i := range busy {
				busy[i] = smtptest.MailboxBusy
			}
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, RefuseRcpt: map[string][]error{"dev@example.com": busy}})
			ca := filepath.Join(t.TempDir(), "ca.pem")
			os.WriteFile(ca, s.CAPEM, 0o600)
			good := "to: [ops@example.com, dev@example.com]\nfrom: salt@example.com\nretry:\n  attempts: 2\n  backoff: 10ms\nsmtp:\n  host: " + s.Host + "\n  port: " + strconv.Itoa(s.Port) + "\n  ca_file: " + ca + "\n"
			f, _, errb := fixedFactory(t, "")
			cfg := filepath.Join(t.TempDir(), "saltmail.yaml")
			os.WriteFile(cfg, []byte(good+"repeat_intervall: 1h\n"), 0o600)
			if code := Main(f, []string{"--config", cfg, corpus("master/salt.state.apply.mixed.json.out")}); code != 2 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			os.WriteFile(cfg, []byte(good), 0o600)
			for i := 0; i < 3; i++ {
				Main(f, []string{"flush", "--config", cfg})
			}
			got := map[string]int{"ops@example.com": 0, "dev@example.com": 0}
			for _, m := range s.Messages() {
				for _, to := range m.To {
					got[to]++
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("copies %v, want %v: %s", got, c.want, errb)
			}
			envs, _ := filepath.Glob(filepath.Join(f.Paths.SpoolDir, "*.env"))
			var waits []string
			for _, e := range envs {
				raw, _ := os.ReadFile(e)
				var env deliver.Envelope
				json.Unmarshal(raw, &env)
				waits = append(waits, strings.Join(env.To, ","))
				eml, _ := os.ReadFile(strings.TrimSuffix(e, ".env") + ".eml")
				if env.RecipientsFromConfig || !bytes.Contains(eml, []byte("To: <ops@example.com>,\r\n <dev@example.com>\r\n")) || bytes.Contains(eml, []byte("<saltmail@master1>\r\n")) {
					t.Errorf("not readdressed in the spool: %s\n%.400s", raw, eml)
				}
			}
			if strings.Join(waits, " ") != c.waitsFor {
				t.Errorf("waiting for %q, want %q", waits, c.waitsFor)
			}
		})
	}
}
