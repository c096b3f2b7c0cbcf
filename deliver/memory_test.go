package deliver_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/saltmail/saltmail/deliver"
)

type record map[string]int

func TestMemoryRecallMakesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	m := &deliver.Memory[record]{Dir: dir}
	if rec := m.Recall("web1"); rec != nil {
		t.Errorf("recalled %v from nothing", rec)
	}
	if err := m.Update(nil, func(func(string) record) map[string]record { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("asking made %s: %v", dir, err)
	}
}

func TestMemoryUpdateAndRecall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	m := &deliver.Memory[record]{Dir: dir}
	keys := []string{"web1", "../../etc/passwd", strings.Repeat("x", 300), "web/1", "web_1"}
	err := m.Update(keys, func(recall func(string) record) map[string]record {
		out := map[string]record{}
		for i, k := range keys {
			if recall(k) != nil {
				t.Errorf("%q: a record before any was written", k)
			}
			out[k] = record{"n": i}
		}
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if got := m.Recall(k)["n"]; got != i {
			t.Errorf("%q: recalled %d, want %d", k, got, i)
		}
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v", st.Mode())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(keys) {
		t.Errorf("%d record files for %d keys (names must be unique): %v", len(files), len(keys), files)
	}
	for _, f := range files {
		if fst, _ := os.Stat(f); fst.Mode().Perm() != 0o600 || filepath.Dir(f) != dir {
			t.Errorf("%s: mode %v", f, fst.Mode())
		}
	}
}

// A corrupt record is reported and taken as empty: a lost memory costs
// one repeated mail, never a crash.
func TestMemoryCorruptRecord(t *testing.T) {
	var warned []string
	m := &deliver.Memory[record]{Dir: t.TempDir(), Warn: func(s string) { warned = append(warned, s) }}
	if err := m.Update([]string{"web1"}, func(func(string) record) map[string]record { return map[string]record{"web1": {"a": 1}} }); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(m.Dir, "web1-*.json"))
	os.WriteFile(files[0], []byte("{not json"), 0o600)
	if rec := m.Recall("web1"); rec != nil || len(warned) != 1 || !strings.Contains(warned[0], "web1 unreadable") {
		t.Errorf("recalled %v, warned %q", rec, warned)
	}
}

// Concurrent updates of one record lose nothing: each holds the lock
// while it reads and writes.
func TestMemoryConcurrentUpdates(t *testing.T) {
	m := &deliver.Memory[record]{Dir: t.TempDir()}
	const n = 32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := m.Update([]string{"web1", "db1"}, func(recall func(string) record) map[string]record {
				rec := record{}
				for k, v := range recall("web1") {
					rec[k] = v
				}
				rec[strconv.Itoa(i)] = i
				return map[string]record{"web1": rec}
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if got := len(m.Recall("web1")); got != n {
		t.Errorf("%d of %d updates kept", got, n)
	}
}
