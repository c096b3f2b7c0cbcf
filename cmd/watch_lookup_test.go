package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// A lookup in the job cache that fails is said, and the watch goes on:
// the bus's own job is still mailed.
func TestWatchLookupFails(t *testing.T) {
	watchSettle = 100 * time.Millisecond
	t.Cleanup(func() { watchSettle = 5 * time.Second })
	dir := t.TempDir()
	jid := time.Now().Add(-10*time.Second).Format("20060102150405") + "000001"
	list, _ := os.ReadFile(filepath.Join("..", "testdata", "corpus", "salt-3008.4", "watch", "salt-run.jobs.list_jobs.json.out"))
	list = bytes.ReplaceAll(list, []byte("20261130170219500522"), []byte(jid))
	bus := filepath.Join(dir, "bus")
	// salt-run: the bus prints a job once its lookup has failed
	run := "#!/bin/sh\ncase \"$*\" in\n*state.event*) while [ ! -e " + dir + "/looked ]; do sleep 0.05; done; cat " + bus + "; sleep 30;;\n" +
		"*jobs.list_jobs*) cat " + filepath.Join(dir, "list") + ";;\n*jobs.lookup_jid*) touch " + dir + "/looked; echo 'Traceback: the master is busy' >&2; exit 1;;\nesac\n"
	if os.WriteFile(filepath.Join(dir, "list"), list, 0o600) != nil || os.WriteFile(filepath.Join(dir, "salt-run"), []byte(run), 0o700) != nil ||
		os.WriteFile(bus, []byte(busLines("20261130154129421938")), 0o600) != nil {
		t.Fatal("cannot write the fake salt-run")
	}
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	state := t.TempDir()
	// a first start reconciles nothing: the journal says when it last heard
	mark := `{"mark": "` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `", "digested": {}}`
	if os.MkdirAll(filepath.Join(state, "watch"), 0o700) != nil || os.WriteFile(filepath.Join(state, "watch", "reconcile.json"), []byte(mark), 0o600) != nil {
		t.Fatal("cannot write the reconcile state")
	}
	stop, errb := startWatch(t, append([]string{"--to", "ops@example.com", "--event-command", filepath.Join(dir, "salt-run") + " -c /conf state.event pretty=False"},
		append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", state)...))
	waitMails(s, 1, 10*time.Second)
	if code := stop(); code != 0 {
		t.Fatalf("watch failed: %s", errb)
	}
	if msgs := s.Messages(); len(msgs) != 1 || !strings.Contains(errb.String(), "the master is busy") {
		t.Fatalf("%d mails; stderr: %s", len(msgs), errb)
	}
}
