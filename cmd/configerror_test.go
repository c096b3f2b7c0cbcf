package cmd

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
