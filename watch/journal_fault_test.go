package watch

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullOnce is a disk that fills up in the middle of one write: half of
// it reaches the file, then ENOSPC; after that there is room again.
type fullOnce struct {
	f    *os.File
	done bool
}

func (d *fullOnce) Write(p []byte) (int, error) {
	if d.done {
		return d.f.Write(p)
	}
	d.done = true
	n, _ := d.f.Write(p[:len(p)/2])
	return n, syscall.ENOSPC
}

// reopen replays the journal in dir into a new tracker, as a restart
// does, and says what it finally mails.
func reopen(t *testing.T, dir string, at time.Time) []string {
	t.Helper()
	tr := NewTracker(opts())
	j, pending, err := OpenJournal(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	return summary(append(pending, tr.Due(at)...))
}

// One "disk full" costs the record being written, not the journal: the
// next record is written once there is room, and it is not glued onto
// the torn half of the one that failed (a restart would lose both).
func TestJournalWriteFault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "watch")
	tr := NewTracker(opts())
	j, _, err := OpenJournal(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, j, []Event{newJob(jid1, "m1", "m2", "m3")}, t0)
	j.w = bufio.NewWriter(&fullOnce{f: j.f}) // the disk fills up
	if err := j.Add(ret(jid1, "m1", ""), t0); err == nil {
		t.Fatal("a failed write was not reported")
	}
	if err := j.Add(ret(jid1, "m2", ""), t0); err != nil {
		t.Fatalf("once there is room again: %v", err)
	}
	if err := j.Went("group-1", t0); err != nil {
		t.Fatalf("once there is room again: %v", err)
	}
	j.f.Close() // kill -9
	raw, _ := os.ReadFile(filepath.Join(dir, "journal"))
	if n := bytes.Count(raw, []byte("\n")); n != 3 || strings.Contains(string(raw), "ret/m1") {
		t.Errorf("journal after the fault (%d lines, want the /new, m2 and the digest):\n%s", n, raw)
	}
	// m1's record was lost with the fault (reported); m2's was not.
	if got := strings.Join(reopen(t, dir, t0.Add(2*time.Hour)), " | "); got != "m2:failed,m1:noreturn,m3:noreturn" {
		t.Errorf("after the restart: %q", got)
	}
}

// A journal whose last line was torn (a crash, a full disk before this
// version) loses that line only: the next record starts a line of its
// own and is replayed after the next restart.
func TestJournalTornTailAtOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "watch")
	path := filepath.Join(dir, "journal")
	tr := NewTracker(opts())
	j, _, err := OpenJournal(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, j, []Event{newJob(jid1, "m1", "m2")}, t0)
	j.Close()
	raw, _ := os.ReadFile(path)
	torn := append(raw, "1796\tsalt/job/"+jid1+"/ret/m2\t{\"id\": \"m2\", \"fu"...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}

	tr2 := NewTracker(opts())
	j2, _, err := OpenJournal(dir, tr2)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr2, j2, []Event{ret(jid1, "m1", "")}, t0.Add(time.Minute))
	j2.Close()
	if raw, _ := os.ReadFile(path); bytes.Contains(raw, []byte("\n1796\t")) || !bytes.HasSuffix(raw, []byte("\n")) {
		t.Errorf("the torn line is still there:\n%s", raw)
	}
	if got := strings.Join(reopen(t, dir, t0.Add(2*time.Hour)), " | "); got != "m1:failed,m2:noreturn" {
		t.Errorf("after the restart: %q, want m1's return kept", got)
	}
}
