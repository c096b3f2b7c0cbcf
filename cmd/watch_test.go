package cmd

import (
	"bytes"
	"context"
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
	f, _, errb := fixedFactory(t, "")
	f.Now = time.Now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		cmd := NewCmdWatch(f, func(o *WatchOptions) error { o.Context = ctx; return runWatch(o) })
		cmd.SetArgs(append([]string{"--to", "ops@example.com", "--event-command", "sh -c 'cat " + lines + "; sleep 30'"}, append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", state)...))
		cmd.SetOut(f.Stderr)
		cmd.SetErr(f.Stderr)
		if err := cmd.Execute(); err != nil {
			done <- 1
			return
		}
		done <- 0
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second mail would come now
	cancel()
	if code := <-done; code != 0 {
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
