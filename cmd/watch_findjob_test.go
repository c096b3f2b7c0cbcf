package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// At job_timeout the minions that did not return are asked with
// saltutil.find_job (a fake salt prints what a real 3008.4 printed,
// after 3 s): the digest says which still runs the job, which is up but
// not running it, and which gave no answer; another job's mail does
// not wait for the answers. An empty watch.find_job_command asks no
// one.
func TestWatchFindJob(t *testing.T) {
	const slow, quick = "20261130150000000001", "20261130150000000002"
	cases := []struct {
		name  string
		flags []string
		want  []string // in the slow job's digest
		salt  string   // how the fake salt was run
	}{
		{"the default command", nil, []string{"Still running at job_timeout 1s: saltutil.find_job found the job",
			"[No response within job_timeout 1s] [Up, but not running the job (saltutil.find_job): it never received it, or it ended without a return]",
			"[No response within job_timeout 1s] [No answer to saltutil.find_job either: down or not connected]"},
			"-c /conf --out=json --static -t 10 -L minion1,minion2,minion3 saltutil.find_job " + slow + "\n"},
		{"empty: no one asked", []string{"--find-job-command", ""}, []string{"minion1", "minion3", "Minion did not return. [No response within job_timeout 1s]"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := fakeSalt(t, slow, quick)
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			args := append([]string{"--to", "ops@example.com", "--job-timeout", "1s", "--event-command", filepath.Join(dir, "salt-run") + " -c /conf state.event pretty=False"},
				append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", t.TempDir())...)
			stop, errb := startWatch(t, append(args, c.flags...))
			waitMails(s, 2, 20*time.Second)
			if code := stop(); code != 0 {
				t.Fatalf("watch failed: %s", errb)
			}
			msgs := s.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d mails: %s", len(msgs), errb)
			}
			texts := []string{mailText(t, msgs[0].Data), mailText(t, msgs[1].Data)}
			if c.flags == nil && !strings.Contains(texts[0], quick) {
				t.Errorf("the first mail is not the quick job's:\n%s", texts[0])
			}
			slowText := texts[0] + texts[1]
			for _, want := range append(c.want, slow, "Subject: [salt] 4 minions: 1 failed, 3 did not return") {
				if !strings.Contains(slowText, want) {
					t.Errorf("the slow job's digest lacks %q:\n%s", want, slowText)
				}
			}
			if calls, _ := os.ReadFile(filepath.Join(dir, "args")); string(calls) != c.salt {
				t.Errorf("salt ran with %q, want %q", calls, c.salt)
			}
		})
	}
}

// fakeSalt writes a salt-run whose bus has a job of four minions (one
// returns), then 1.5 s later one of a minion that returns, and a salt
// that records its arguments and prints, after 3 s, a real find_job's
// answer: minion1 running the job, minion2 not, minion3 no answer.
func fakeSalt(t *testing.T, slow, quick string) string {
	dir := t.TempDir()
	answer, err := filepath.Abs(filepath.Join("..", "watch", "testdata", "findjob", "salt-3008.4", "find_job.running-done-stopped.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	fail := func(jid, id string) string {
		return fmt.Sprintf("salt/job/%s/ret/%s\t{\"cmd\": \"_return\", \"fun\": \"state.apply\", \"id\": %q, \"jid\": %q, \"retcode\": 2, \"return\": {\"cmd_|-a_|-false_|-run\": {\"result\": false, \"changes\": {}, \"comment\": \"failed on %s\", \"__run_num__\": 0}}}\n", jid, id, id, jid, id)
	}
	first := "salt/job/" + slow + "/new\t{\"fun\": \"state.apply\", \"jid\": \"" + slow + "\", \"minions\": [\"minion1\", \"minion2\", \"minion3\", \"minion4\"]}\n" + fail(slow, "minion4")
	second := "salt/job/" + quick + "/new\t{\"fun\": \"state.apply\", \"jid\": \"" + quick + "\", \"minions\": [\"minion5\"]}\n" + fail(quick, "minion5")
	run := "#!/bin/sh\ncase \"$*\" in\n*state.event*) cat " + filepath.Join(dir, "first") + "; sleep 1.5; cat " + filepath.Join(dir, "second") + "; sleep 30;;\n*jobs.list_jobs*) echo '{}';;\nesac\n"
	salt := "#!/bin/sh\necho \"$*\" >> " + filepath.Join(dir, "args") + "\nsleep 3\ncat " + answer + "\n"
	for name, text := range map[string]string{"first": first, "second": second, "salt-run": run, "salt": salt} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mailText is a mail's Subject line and its text part, decoded.
func mailText(t *testing.T, data []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			return "Subject: " + m.Header.Get("Subject") + "\n" + string(b)
		}
	}
}

// A find_job_command that is no command line is the configuration's
// error, before anything runs.
func TestWatchFindJobCommandError(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "saltmail.yaml")
	if err := os.WriteFile(conf, []byte("to: [ops@example.com]\nsmtp: {host: 127.0.0.1}\nwatch:\n  find_job_command: \"salt -L 'x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _, errb := fixedFactory(t, "")
	err := runWatch(&WatchOptions{IO: f, Config: configFlags{path: conf, uses: usesWatch}, Context: context.Background()})
	var ee *exitError
	want := "watch.find_job_command (--find-job-command, SALTMAIL_WATCH_FIND_JOB_COMMAND): \"salt -L 'x\": name a command, or none (unterminated single quote)"
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), want) {
		t.Errorf("%v (exit %v), want %q%s", err, ee, want, errb)
	}
}
