package watch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// feed hands events to a tracker and its journal, as the watch does.
func feed(t *testing.T, tr *Tracker, j *Journal, evs []Event, at time.Time) []Digest {
	t.Helper()
	var out []Digest
	for _, e := range evs {
		keep, due := tr.Handle(e, at)
		if keep {
			if err := j.Add(e, at); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, due...)
	}
	return out
}

// A watch killed in the middle of a job (the journal is all that is
// left) finishes it after the restart; a digest that went is not sent
// again, one that was made and did not go is.
func TestJournalReplay(t *testing.T) {
	for _, c := range []struct {
		name       string
		before     []Event
		went       bool // the digest made before the kill was recorded
		after      []Event
		wantResent int
		want       string
	}{
		{"killed mid-job", []Event{newJob(jid1, "m1", "m2"), ret(jid1, "m1", "")}, false, []Event{ret(jid1, "m2", "")}, 0, "m1:failed,m2:failed"},
		{"killed after the digest went", []Event{newJob(jid1, "m1"), ret(jid1, "m1", "")}, true, []Event{ret(jid1, "m1", "")}, 0, ""},
		{"killed while the digest was sent: sent again", []Event{newJob(jid1, "m1"), ret(jid1, "m1", "")}, false, nil, 0, "m1:failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "watch")
			tr := NewTracker(opts())
			j, pending, err := OpenJournal(dir, tr)
			if err != nil || len(pending) != 0 {
				t.Fatal(err, pending)
			}
			feed(t, tr, j, c.before, t0)
			for _, d := range tr.Due(t0.Add(time.Minute)) {
				if c.went {
					if err := j.Went(d.Key, t0.Add(time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
			}
			j.f.Close() // kill -9: nothing more is written

			tr2 := NewTracker(opts())
			j2, pending, err := OpenJournal(dir, tr2)
			if err != nil {
				t.Fatal(err)
			}
			defer j2.Close()
			if len(pending) != c.wantResent {
				t.Errorf("%d digests to send again, want %d", len(pending), c.wantResent)
			}
			now := t0.Add(2 * time.Minute)
			got := feed(t, tr2, j2, c.after, now)
			got = append(got, tr2.Due(now.Add(time.Minute))...)
			if s := strings.Join(summary(got), " | "); s != c.want {
				t.Errorf("after the restart: %q, want %q", s, c.want)
			}
		})
	}
}

// Once nothing is in flight the journal is emptied; a torn last line
// (a crash mid-write) costs that line only.
func TestJournalCompactAndTornLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "watch")
	tr := NewTracker(opts())
	j, _, err := OpenJournal(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, tr, j, []Event{newJob(jid1, "m1"), ret(jid1, "m1", "")}, t0)
	for _, d := range tr.Due(t0.Add(time.Minute)) {
		_ = j.Went(d.Key, t0)
	}
	if err := j.Compact(tr); err != nil {
		t.Fatal(err)
	}
	feed(t, tr, j, []Event{newJob(jid2, "m1", "m2")}, t0)
	j.Close()
	path := filepath.Join(dir, "journal")
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), jid1) || !strings.Contains(string(raw), jid2) {
		t.Errorf("compacted journal:\n%s", raw)
	}
	if err := os.WriteFile(path, append(raw, "17964\tsalt/job/"...), 0o600); err != nil {
		t.Fatal(err)
	}
	tr2 := NewTracker(opts())
	j2, _, err := OpenJournal(dir, tr2)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if tr2.Idle() {
		t.Error("the job before the torn line was lost")
	}
}
