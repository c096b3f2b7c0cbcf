package watch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

// ReconcileState is what a reconcile needs across restarts, kept in
// <state dir>/watch/reconcile.json: the time of the last event seen
// (the job cache is asked from there), and the jobs digested within
// the job cache's life (the journal forgets them once nothing is in
// flight, and a reconcile must not digest them again).
type ReconcileState struct {
	Mark     time.Time            `json:"mark"`
	Digested map[string]time.Time `json:"digested"`
	// Missing: the digested jobs whose digest named minions that have
	// not returned since, with them (their late returns are looked for).
	Missing map[string][]string `json:"missing,omitempty"`
	// JIDUTC: the master writes its jids in UTC (utc_jid: True), as its
	// /new events showed; nil until one did (jidzone.go).
	JIDUTC *bool `json:"jid_utc,omitempty"`
}

// Went records a job's digest; other digests (groups, expect reports)
// are no jobs of the cache.
func (s *ReconcileState) Went(key string, at time.Time) {
	if !IsJID(key) {
		return
	}
	if s.Digested == nil {
		s.Digested = map[string]time.Time{}
	}
	s.Digested[key] = at
}

// Prune forgets digests older than keep: the job cache has dropped
// them too (keep_jobs_seconds, 24 h by default).
func (s *ReconcileState) Prune(now time.Time, keep time.Duration) {
	for jid, at := range s.Digested {
		if now.Sub(at) > keep {
			delete(s.Digested, jid)
		}
	}
	for jid := range s.Missing {
		if _, ok := s.Digested[jid]; !ok {
			delete(s.Missing, jid)
		}
	}
}

// LoadReconcile reads the reconcile state in dir; none is an empty one.
func LoadReconcile(dir string) (*ReconcileState, error) {
	s := &ReconcileState{Digested: map[string]time.Time{}}
	if err := loadJSON(filepath.Join(dir, "reconcile.json"), s); err != nil {
		return nil, err
	}
	if s.Digested == nil {
		s.Digested = map[string]time.Time{}
	}
	return s, nil
}

// Save writes the state whole (atomically: a crash leaves the old one).
func (s *ReconcileState) Save(dir string) error {
	return saveJSON(filepath.Join(dir, "reconcile.json"), s)
}

// expectFile is the clocks of the dead-man rules, one entry each.
type expectFile struct {
	Clocks []savedClock `json:"clocks"`
}

type savedClock struct {
	Minion   string `json:"minion"`
	Schedule string `json:"schedule"`
	Clock
}

// LoadExpect restores the clocks kept in dir (expect.json), those of
// rules that still exist: a watch restarted still knows when each
// minion last returned its schedule, and what it reported.
func (x *Expect) LoadExpect(dir string) error {
	var f expectFile
	if err := loadJSON(filepath.Join(dir, "expect.json"), &f); err != nil {
		return err
	}
	for _, c := range f.Clocks {
		if _, ok := x.rule(c.Minion, c.Schedule); ok {
			clock := c.Clock
			x.clocks[clockKey{c.Minion, c.Schedule}] = &clock
		}
	}
	return nil
}

// SaveExpect writes the clocks to dir (expect.json), atomically.
func (x *Expect) SaveExpect(dir string) error {
	var f expectFile
	for k, c := range x.clocks {
		f.Clocks = append(f.Clocks, savedClock{Minion: k.Minion, Schedule: k.Schedule, Clock: *c})
	}
	return saveJSON(filepath.Join(dir, "expect.json"), &f)
}

// loadJSON reads path into v; a missing file leaves v as it is. No
// symlink is followed (the state dir is saltmail's alone).
func loadJSON(path string, v any) error {
	f, err := deliver.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("watch state: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("watch state %s: %w", path, err)
	}
	return nil
}

func saveJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("watch state %s: %w", path, err)
	}
	if err := deliver.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("watch state: %w", err)
	}
	return nil
}
