package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// Jobs held for find_job faster than salt answers: an ask whose job
// was digested without it while it waited for a slot never runs.
func TestWatchFindJobAsksDoNotPileUp(t *testing.T) {
	watchSettle = 100 * time.Millisecond
	findJobWait, findJobTimeout = 300*time.Millisecond, 5*time.Second
	t.Cleanup(func() { watchSettle, findJobWait, findJobTimeout = 5*time.Second, 2*time.Minute, 90*time.Second })
	dir := t.TempDir()
	var bus strings.Builder
	for i := 1; i <= 10; i++ {
		jid := fmt.Sprintf("202611301500000000%02d", i)
		fmt.Fprintf(&bus, "salt/job/%s/new\t{\"fun\": \"state.apply\", \"jid\": \"%s\", \"minions\": [\"down\"], \"arg\": []}\n", jid, jid)
	}
	run := "#!/bin/sh\ncase \"$*\" in\n*state.event*) cat " + filepath.Join(dir, "bus") + "; sleep 30;;\n*jobs.list_jobs*) echo '{}';;\nesac\n"
	salt := "#!/bin/sh\necho \"$(date +%s.%N) $*\" >> " + filepath.Join(dir, "args") + "\nsleep 1\necho '{}'\n"
	for name, text := range map[string]string{"bus": bus.String(), "salt-run": run, "salt": salt} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	stop, errb := startWatch(t, append([]string{"--to", "ops@example.com", "--job-timeout", "1s", "--repeat-interval=0", "--event-command", filepath.Join(dir, "salt-run") + " -c /conf state.event pretty=False"},
		append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", t.TempDir())...))
	waitMails(s, 10, 10*time.Second)
	digested := float64(time.Now().UnixNano()) / 1e9
	time.Sleep(3 * time.Second)
	stop()
	calls, _ := os.ReadFile(filepath.Join(dir, "args"))
	after := 0
	for _, l := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
		var sec float64
		if _, err := fmt.Sscanf(l, "%f", &sec); err == nil && sec > digested {
			after++
		}
	}
	if len(s.Messages()) != 10 || after > 0 {
		t.Errorf("%d mails, want 10; %d find_job runs began after every job was digested:\n%s%s", len(s.Messages()), after, calls, errb)
	}
}

// A late return mailed from the bus, then a kill -9 (the state dir as it
// is on disk then): the next start does not mail it again from the job
// cache.
func TestWatchLateReturnOnceAcrossKill(t *testing.T) {
	watchSettle = 100 * time.Millisecond
	t.Cleanup(func() { watchSettle = 5 * time.Second })
	dir := t.TempDir()
	jid := time.Now().Add(-2*time.Second).Format("20060102150405") + "000001"
	state := func(id string) string {
		return fmt.Sprintf(`{"cmd_|-a_|-false_|-run": {"result": false, "changes": {}, "comment": "failed on %s", "__run_num__": 0}}`, id)
	}
	ret := func(id string) string {
		return fmt.Sprintf("salt/job/%s/ret/%s\t{\"cmd\": \"_return\", \"fun\": \"state.apply\", \"id\": %q, \"jid\": %q, \"retcode\": 2, \"return\": %s}\n", jid, id, id, jid, state(id))
	}
	files := map[string]string{
		"first":  "salt/job/" + jid + "/new\t{\"fun\": \"state.apply\", \"jid\": \"" + jid + "\", \"minions\": [\"m1\", \"m2\"], \"arg\": []}\n" + ret("m1"),
		"late":   ret("m2"),
		"lookup": fmt.Sprintf(`{"m1": %s, "m2": %s}`, state("m1"), state("m2")),
		// the bus: the job, then (after its digest) m2's late return; on
		// the second start, nothing
		"salt-run": "#!/bin/sh\ncase \"$*\" in\n*state.event*) if [ -e " + filepath.Join(dir, "round2") + " ]; then sleep 30; fi; cat " + filepath.Join(dir, "first") + "; sleep 2.5; cat " + filepath.Join(dir, "late") + "; sleep 30;;\n*jobs.list_jobs*) echo '{}';;\n*jobs.lookup_jid*) cat " + filepath.Join(dir, "lookup") + ";;\nesac\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	args := func(stateDir string) []string {
		return append([]string{"--to", "ops@example.com", "--job-timeout", "1s", "--group-wait", "100ms", "--group-interval", "100ms", "--find-job-command", "", "--repeat-interval=0", "--send-resolved=false",
			"--event-command", filepath.Join(dir, "salt-run") + " -c /conf state.event pretty=False"},
			append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", stateDir)...)
	}
	st := t.TempDir()
	stop, errb := startWatch(t, args(st))
	waitMails(s, 2, 15*time.Second)
	time.Sleep(500 * time.Millisecond)
	killed := t.TempDir() // what a kill -9 now leaves on disk
	if out, err := exec.Command("cp", "-a", st+"/.", killed).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	stop()
	if n := len(s.Messages()); n != 2 {
		t.Fatalf("the job's digest and m2's late return: %d mails: %s", n, errb)
	}
	if err := os.WriteFile(filepath.Join(dir, "round2"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stop2, errb2 := startWatch(t, args(killed))
	time.Sleep(3 * time.Second)
	stop2()
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d mails after the restart, want the 2 before: %s", n, errb2)
	}
}
