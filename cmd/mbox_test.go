package cmd

import (
	"bytes"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostileID is a minion id that, unescaped, writes From_ lines and a
// forged header into an mbox: through LF, CRLF and a lone CR (which
// quoted-printable turns into a line break), and a line already quoted.
const hostileID = "web2\r\nFrom evil@example.com Mon Jan  1 00:00:00 2026\nSubject: forged\n\n>From x\rFrom y"

// Two minions with something to report are two messages, whatever
// their ids and comments hold; each reads back byte for byte.
func TestRenderMboxHostile(t *testing.T) {
	input := `{"web1": {"cmd_|-backup_|-backup_|-run": {"result": false, "changes": {}, "comment": "backup failed:\nFrom now on it fails", "__run_num__": 0}}}` + "\n" +
		`{"` + jsonEscape(hostileID) + `": {"test_|-a_|-a_|-nop": {"result": false, "changes": {}, "comment": "x", "__run_num__": 0}}}` + "\n"
	f, out, errb := fixedFactory(t, input)
	if code := Main(f, []string{"render", "--per-minion", "--to", "ops@example.com"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	msgs := readMbox(t, out.Bytes())
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2:\n%s", len(msgs), out)
	}
	subjects := []*regexp.Regexp{
		regexp.MustCompile(`^\[salt\] web1: 1 failed$`),
		regexp.MustCompile(`^\[salt\] web2 +From evil@example\.com .* Subject: forged .*: 1 failed$`),
	}
	for i, raw := range msgs {
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if s := m.Header.Get("Subject"); !subjects[i].MatchString(s) {
			t.Errorf("message %d: Subject %q", i, s)
		}
		if len(m.Header["Subject"]) != 1 || m.Header.Get("To") != "<ops@example.com>" {
			t.Errorf("message %d: headers %v", i, m.Header)
		}
	}
	// The lines that looked like From_ lines are in the messages as
	// Salt wrote them, quoted in the mbox only.
	for i, want := range []string{"\r\nFrom now on it fails", "\r\n>From x\r\nFrom y:"} {
		if !bytes.Contains(msgs[i], []byte(want)) {
			t.Errorf("message %d lost %q", i, want)
		}
	}
	for _, want := range []string{"\n>From now on it fails", "\n>>From x\r\n>From y:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("mbox has no %q", want)
		}
	}
}

// writeMbox quotes exactly the lines a reader would take for From_
// lines, and ends each message with a blank line.
func TestWriteMbox(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 15, 2, 0, time.UTC)
	cases := []struct {
		name, from, data, want string
	}{
		{"plain", "a@b.c", "Subject: s\r\n\r\nhi\r\n", "From a@b.c Wed Nov 25 10:15:02 2026\nSubject: s\r\n\r\nhi\r\n\n"},
		{"From lines quoted", "a@b.c", "S: s\r\n\r\nFrom x\r\n>From y\r\n>>From z\nFrom", "From a@b.c Wed Nov 25 10:15:02 2026\nS: s\r\n\r\n>From x\r\n>>From y\r\n>>>From z\nFrom\n\n"},
		{"lookalikes kept", "a@b.c", "x\nFrom:\n from x\n>From\nfrom x\nFromage\nFrom\tx\n", "From a@b.c Wed Nov 25 10:15:02 2026\nx\nFrom:\n from x\n>From\nfrom x\nFromage\nFrom\tx\n\n"},
		{"no final line break", "a@b.c", "x", "From a@b.c Wed Nov 25 10:15:02 2026\nx\n\n"},
		{"sender with a space", `"a b"@c.d`, "x\n", "From MAILER-DAEMON Wed Nov 25 10:15:02 2026\nx\n\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			m := outgoing{data: []byte(c.data)}
			m.env.From = c.from
			if err := writeMbox(&b, []outgoing{m}, now); err != nil || b.String() != c.want {
				t.Errorf("err %v, got\n%q\nwant\n%q", err, b.String(), c.want)
			}
		})
	}
}

// readMbox splits an mbox as the strictest reader does, at every line
// that begins with "From ", and undoes mboxrd's quoting.
func readMbox(t *testing.T, mbox []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	quoted := regexp.MustCompile(`^>+From `)
	for _, line := range bytes.SplitAfter(mbox, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("From ")):
			msgs = append(msgs, nil)
			continue
		case len(msgs) == 0:
			t.Fatalf("mbox does not start with a From_ line: %q", line)
		case quoted.Match(line):
			line = line[1:]
		}
		msgs[len(msgs)-1] = append(msgs[len(msgs)-1], line...)
	}
	for i, m := range msgs {
		msgs[i] = bytes.TrimSuffix(m, []byte("\n")) // the separating blank line
	}
	return msgs
}

func jsonEscape(s string) string {
	r := strings.NewReplacer("\r", `\r`, "\n", `\n`, `"`, `\"`)
	return r.Replace(s)
}
