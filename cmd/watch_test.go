package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// busLines are a job of two minions as state.event prints it, with the
// noise around it: a test.ping job, a find_job, and a traceback line.
func busLines(jid string) string {
	fail := func(id string) string {
		return fmt.Sprintf("salt/job/%s/ret/%s\t{\"cmd\": \"_return\", \"fun\": \"state.apply\", \"id\": %q, \"jid\": %q, \"retcode\": 2, \"return\": {\"cmd_|-a_|-false_|-run\": {\"result\": false, \"changes\": {}, \"comment\": \"failed on %s\", \"__run_num__\": 0}}}\n", jid, id, id, jid, id)
	}
	return "salt/job/20261130150000000001/new\t{\"fun\": \"test.ping\", \"minions\": [\"m1\"]}\n" +
		"salt/job/" + jid + "/new\t{\"fun\": \"state.apply\", \"jid\": \"" + jid + "\", \"minions\": [\"m1\", \"m2\"], \"arg\": []}\n" +
		fail("m1") +
		"Traceback (most recent call last):\n" +
		"salt/job/20261130150000000002/new\t{\"fun\": \"saltutil.find_job\", \"minions\": [\"m2\"], \"arg\": [\"" + jid + "\"]}\n" +
		fail("m2")
}

// watch hears a job's returns on the bus and mails one digest.
func TestWatchOneMailPerJob(t *testing.T) {
	watchSettle = 100 * time.Millisecond
	t.Cleanup(func() { watchSettle = 5 * time.Second })
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	lines := filepath.Join(t.TempDir(), "bus")
	if err := os.WriteFile(lines, []byte(busLines("20261130154129421938")), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	stop, errb := startWatch(t, append([]string{"--to", "ops@example.com", "--event-command", "sh -c 'cat " + lines + "; sleep 30'"}, append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", state)...))
	waitMails(s, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // a second mail would come now
	if code := stop(); code != 0 {
		t.Fatalf("watch failed: %s", errb)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("Subject: [salt] 2 minions: 2 failed")) {
		t.Fatalf("%d mails: %s", len(msgs), errb)
	}
	if j, _ := os.ReadFile(filepath.Join(state, "watch", "journal")); len(j) != 0 || !strings.Contains(string(msgs[0].Data), "m2") {
		t.Errorf("journal after the digest: %q", j)
	}
}

// startWatch runs saltmail watch with args until stop, which says its
// exit status.
func startWatch(t *testing.T, args []string) (stop func() int, stderr *bytes.Buffer) {
	t.Helper()
	f, _, errb := fixedFactory(t, "")
	f.Now = time.Now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		cmd := NewCmdWatch(f, func(o *WatchOptions) error { o.Context = ctx; return runWatch(o) })
		cmd.SetArgs(args)
		cmd.SetOut(f.Stderr)
		cmd.SetErr(f.Stderr)
		if err := cmd.Execute(); err != nil {
			done <- 1
			return
		}
		done <- 0
	}()
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return stop, errb
}

// waitMails waits until the server holds n mails, or the time is up.
func waitMails(s *smtptest.Server, n int, within time.Duration) {
	deadline := time.Now().Add(within)
	for len(s.Messages()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// A minion whose scheduled highstate stops is reported once, and said
// to return again when its schedule does.
func TestWatchExpect(t *testing.T) {
	dir := t.TempDir()
	ret := `printf 'salt/job/20261130150000%%06d/ret/%s\t{"cmd": "_return", "id": "%s", "jid": "20261130150000%%06d", "fun": "state.apply", "schedule": "highstate", "pid": %%d, "retcode": 0, "return": {"test_|-ok_|-ok_|-succeed_without_changes": {"name": "ok", "result": true, "changes": {}, "comment": "ok", "__run_num__": 0}}}\n' $i $i $i`
	// web1 returns its schedule every 0.3 s; web3 once, then from 3 s on.
	bus := "i=0\nwhile :; do\n  i=$((i+1))\n  " + fmt.Sprintf(ret, "web1", "web1") + "\n  if [ $i = 1 ] || [ $i -ge 10 ]; then " + fmt.Sprintf(ret, "web3", "web3") + "; fi\n  sleep 0.3\ndone\n"
	script := filepath.Join(dir, "bus.sh")
	conf := filepath.Join(dir, "saltmail.yaml")
	yaml := "watch:\n  expect:\n    - {schedule: highstate, every: 1s, grace: 500ms, minions: 'web*'}\n  group_wait: 100ms\n  group_interval: 100ms\n"
	if os.WriteFile(script, []byte(bus), 0o700) != nil || os.WriteFile(conf, []byte(yaml), 0o600) != nil {
		t.Fatal("cannot write the test's files")
	}
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	keys := `echo '{"minions": ["web1", "web3", "db1"], "minions_pre": [], "minions_rejected": [], "minions_denied": []}'`
	stop, errb := startWatch(t, append([]string{"--config", conf, "--to", "ops@example.com", "--event-command", "sh " + script, "--keys-command", "sh -c \"" + strings.ReplaceAll(keys, `"`, `\"`) + "\""},
		append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", t.TempDir())...))
	waitMails(s, 2, 15*time.Second)
	time.Sleep(time.Second) // web3 returns every 0.3 s again: no more mail
	if code := stop(); code != 0 {
		t.Fatalf("watch failed: %s", errb)
	}
	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d mails, want the silence and its end: %s", len(msgs), errb)
	}
	first, second := string(msgs[0].Data), string(msgs[1].Data)
	if !strings.Contains(first, "Subject: [salt] web3: did not return") || !strings.Contains(first, "No scheduled highstate since") || strings.Contains(first, "web1") {
		t.Errorf("the silence's mail:\n%.600s", first)
	}
	if !strings.Contains(second, "Subject: [salt] web3: returns again") {
		t.Errorf("the return's mail:\n%.600s", second)
	}
}

// A job the bus never showed (the master or the watch was down) is
// found in the job cache after a start of the event command: one
// digest, and not again after the bus or the watch restarts.
func TestWatchReconcile(t *testing.T) {
	dir := t.TempDir()
	jid := time.Now().Add(-10*time.Second).Format("20060102150405") + "000001"
	list, _ := os.ReadFile(filepath.Join("..", "testdata", "corpus", "salt-3008.4", "watch", "salt-run.jobs.list_jobs.json.out"))
	list = bytes.ReplaceAll(list, []byte("20261130170219500522"), []byte(jid))
	look, _ := filepath.Abs(filepath.Join("..", "testdata", "corpus", "salt-3008.4", "watch", "salt-run.jobs.lookup_jid.missing.json.out"))
	args := filepath.Join(dir, "args")
	// salt-run: state.event ends after a second (the bus restarts it);
	// the job cache holds the captured job, under a jid of now.
	run := "#!/bin/sh\necho \"$*\" >> " + args + "\ncase \"$*\" in\n*state.event*) sleep 1;;\n*jobs.list_jobs*) cat " + filepath.Join(dir, "list") + ";;\n*jobs.lookup_jid*) cat " + look + ";;\nesac\n"
	if os.WriteFile(filepath.Join(dir, "list"), list, 0o600) != nil || os.WriteFile(filepath.Join(dir, "salt-run"), []byte(run), 0o700) != nil {
		t.Fatal("cannot write the fake salt-run")
	}
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	state := t.TempDir()
	watchArgs := append([]string{"--to", "ops@example.com", "--job-timeout", "1s", "--event-command", filepath.Join(dir, "salt-run") + " -c /conf state.event pretty=False"},
		append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", state)...)
	for round := 1; round <= 2; round++ {
		stop, errb := startWatch(t, watchArgs)
		waitMails(s, 1, 10*time.Second)
		time.Sleep(3 * time.Second) // the bus ends and starts again: a second reconcile
		if code := stop(); code != 0 {
			t.Fatalf("round %d: watch failed: %s", round, errb)
		}
		if msgs := s.Messages(); len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("Subject: [salt] 2 minions: 1 failed, 1 changed, 1 did not return")) {
			t.Fatalf("round %d: %d mails (%q): %s", round, len(msgs), msgs, errb)
		}
	}
	calls, _ := os.ReadFile(args)
	// The digest named a minion as not returned: each later start of
	// the bus looks the job up again for its late return (none came:
	// no second mail, above).
	if n := strings.Count(string(calls), "-c /conf jobs.lookup_jid "+jid+" missing=True --out=json"); n < 3 || strings.Count(string(calls), "-c /conf jobs.list_jobs search_function=state.*") < 3 {
		t.Errorf("salt-run calls (a listing and a lookup per start of the bus):\n%s", calls)
	}
}

// A dead-man rule that can never be right is the file's error, at its
// line, before anything runs.
func TestWatchExpectConfigErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"watch:\n  expect: highstate\n", ":2: watch.expect takes a list of rules"},
		{"watch:\n  expect:\n    - {every: 1h}\n", ":3: watch.expect: a rule needs schedule and a positive every"},
		{"watch:\n  expect:\n    - schedule: highstate\n      every: 1hour\n", ":4: watch.expect: every: time: unknown unit"},
		{"watch:\n  expect:\n    - {schedule: highstate, every: 1h, grace: -5m}\n", ":3: watch.expect: grace: must not be negative"},
		{"watch:\n  expect:\n    - {schedule: highstate, every: 1h, minions: 'web[1'}\n", ":3: watch.expect: minions: syntax error in pattern"},
		{"watch:\n  expect:\n    - {schedule: highstate, every: 1h, minion: web1}\n", ":3: watch.expect: unknown key minion (did you mean minions?)"},
	}
	for _, c := range cases {
		conf := filepath.Join(t.TempDir(), "saltmail.yaml")
		if err := os.WriteFile(conf, []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		f, _, errb := fixedFactory(t, "")
		err := runWatch(&WatchOptions{IO: f, Config: configFlags{path: conf, uses: usesWatch}, Context: context.Background()})
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), conf+c.want) {
			t.Errorf("%q: %v (exit %v), want %q%s", c.yaml, err, ee, c.want, errb)
		}
	}
}

// A digest that reached neither the server nor the spool is tried again
// after watchRetry, though the bus says nothing more.
func TestWatchRetriesWhatWentNowhere(t *testing.T) {
	watchSettle, watchRetry = 100*time.Millisecond, time.Second
	t.Cleanup(func() { watchSettle, watchRetry = 5*time.Second, 5*time.Minute })
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS, FailData: []error{smtptest.Temp}})
	dir := t.TempDir()
	lines, gate, spool := filepath.Join(dir, "bus"), filepath.Join(dir, "gate"), filepath.Join(dir, "spool")
	if os.WriteFile(lines, []byte(busLines("20261130154129421938")), 0o600) != nil || os.Mkdir(spool, 0o700) != nil {
		t.Fatal("cannot write the test's files")
	}
	bus := fmt.Sprintf("sh -c 'while [ ! -e %s ]; do sleep 0.05; done; cat %s; sleep 30'", gate, lines)
	stop, errb := startWatch(t, append([]string{"--to", "ops@example.com", "--event-command", bus, "--retry-attempts", "1"},
		append(transportArgs(t, s), "--spool-dir", spool, "--state-dir", t.TempDir())...))
	time.Sleep(300 * time.Millisecond) // watch has checked the spool dir: now it breaks
	if os.Remove(spool) != nil || os.WriteFile(spool, nil, 0o600) != nil || os.WriteFile(gate, nil, 0o600) != nil {
		t.Fatal("cannot break the spool")
	}
	waitMails(s, 1, 10*time.Second)
	time.Sleep(1500 * time.Millisecond) // a second retry would send it again now
	if code := stop(); code != 0 {
		t.Fatalf("watch failed: %s", errb)
	}
	if msgs := s.Messages(); len(msgs) != 1 || !strings.Contains(errb.String(), "spooling failed too") {
		t.Fatalf("%d mails, want the digest once, on its retry: %s", len(msgs), errb)
	}
}
