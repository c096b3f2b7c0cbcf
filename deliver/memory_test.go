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

// Files planted in the state dir are never followed: a .lock symlink
// does not make saltmail create its target, a record linked to another
// file is not read; a state dir another user could write is refused by
// Update and taken as empty by Recall.
func TestMemoryRefusesPlantedFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(secret, []byte(`{"n": 7}`), 0o600)
	cases := []struct {
		name       string
		plant      func(dir, file, target string) // file: web1's record path without extension
		wantUpdate string                         // in Update's error; "" : no error
		wantWarn   string
	}{
		{"lock links elsewhere", func(dir, file, target string) { os.Remove(file + ".lock"); os.Symlink(target, file+".lock") }, "not a regular file", ""},
		{"record links to another file", func(dir, file, _ string) { os.Remove(file + ".json"); os.Symlink(secret, file+".json") }, "", "not a regular file"},
		{"shared state dir", func(dir, _, _ string) { os.Chmod(dir, 0o777) }, "writable by group or others", "writable by group or others"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "created-by-root")
			var warned []string
			m := &deliver.Memory[record]{Dir: filepath.Join(t.TempDir(), "state"), Warn: func(s string) { warned = append(warned, s) }}
			keep := func(func(string) record) map[string]record { return map[string]record{"web1": {"n": 1}} }
			if err := m.Update([]string{"web1"}, keep); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(m.Dir, "web1-*.json"))
			c.plant(m.Dir, strings.TrimSuffix(files[0], ".json"), target)
			m = &deliver.Memory[record]{Dir: m.Dir, Warn: m.Warn}
			if rec := m.Recall("web1"); rec["n"] == 7 || (c.wantWarn != "" && (len(warned) != 1 || !strings.Contains(warned[0], c.wantWarn))) {
				t.Errorf("recalled %v, warned %q", rec, warned)
			}
			err := m.Update([]string{"web1"}, keep)
			if (c.wantUpdate == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantUpdate)) {
				t.Errorf("update: %v, want %q", err, c.wantUpdate)
			}
			if _, err := os.Lstat(target); err == nil {
				t.Errorf("the lock's target %s was created", target)
			}
			if raw, _ := os.ReadFile(secret); string(raw) != `{"n": 7}` {
				t.Errorf("the linked file was written: %s", raw)
			}
		})
	}
}
