package watch

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// With a job always in flight the journal is never idle: once it has
// grown past its bound it is rewritten with the records of what is in
// flight (jobs, the open group) only, and a restart rebuilds exactly
// that, with the same deadlines.
func TestJournalCompactInFlight(t *testing.T) {
	const jidA, jidG = "20261130150000000001", "20261130150000000002"
	dir := filepath.Join(t.TempDir(), "watch")
	path := filepath.Join(dir, "journal")
	tr := NewTracker(opts())
	j, _, err := OpenJournal(dir, tr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { j.Close() }()
	feed(t, tr, j, []Event{newJob(jidA, "m1", "m2"), ret(jidA, "m1", "")}, t0)
	for i := range 200 {
		at := t0.Add(time.Duration(i+1) * 10 * time.Second)
		jid := fmt.Sprintf("2026113016%010d", i)
		feed(t, tr, j, []Event{newJob(jid, "m1"), ret(jid, "m1", "")}, at)
		for _, d := range tr.Due(at.Add(6 * time.Second)) {
			if err := j.Went(d.Key, at.Add(6*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	groupAt := t0.Add(2100 * time.Second)
	feed(t, tr, j, []Event{ret(jidG, "m9", "")}, groupAt) // no /new: waits in the group

	before, _ := os.ReadFile(path)
	if err := j.Compact(tr); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Equal(raw, before) {
		t.Fatal("rewritten below its bound")
	}
	j.minRewrite = 4 << 10
	if err := j.Compact(tr); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], jidA+"/new") || !strings.Contains(lines[1], jidA+"/ret/m1") || !strings.Contains(lines[2], jidG+"/ret/m9") {
		t.Fatalf("compacted journal (%d bytes before, %d after):\n%.2000s", len(before), len(raw), raw)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("compacted journal's mode: %v %v", st.Mode(), err)
	}

	stale := filepath.Join(dir, ".journal-123") // a rewrite a crash cut short
	if err := os.WriteFile(stale, []byte("1\tsalt/job/"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr2 := NewTracker(opts())
	j2, pending, err := OpenJournal(dir, tr2)
	if err != nil || len(pending) != 0 {
		t.Fatal(err, pending)
	}
	j2.Close()
	if _, err := os.Lstat(stale); err == nil {
		t.Error("a stale rewrite was left")
	}
	if got := slices.Collect(maps.Keys(tr2.jobs)); len(got) != 1 || got[0] != jidA {
		t.Fatalf("jobs after the replay: %v", got)
	}
	a, b := tr.jobs[jidA], tr2.jobs[jidA]
	if !a.deadline.Equal(b.deadline) || !a.timeout.Equal(b.timeout) || !maps.Equal(a.returned, b.returned) || b.missing != a.missing {
		t.Errorf("job rebuilt as %+v, want %+v", b, a)
	}
	if tr2.group == nil || !tr2.group.first.Equal(groupAt) || !maps.Equal(tr2.group.seen, tr.group.seen) {
		t.Errorf("group rebuilt as %+v, want %+v", tr2.group, tr.group)
	}

	// The journal writes on in the new file.
	feed(t, tr, j, []Event{ret(jidA, "m2", "")}, groupAt.Add(time.Second))
	j.Close()
	got := reopen(t, dir, t0.Add(3*time.Hour))
	slices.Sort(got)
	if s := strings.Join(got, " | "); s != "m1:failed,m2:failed | m9:failed" {
		t.Errorf("after the restart: %q", s)
	}
}
