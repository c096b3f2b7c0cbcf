package deliver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"syscall"
	"time"
)

// Memory keeps what saltmail reported, one small JSON record of type T
// per key (a minion id) in Dir, each file guarded by a lock file of its
// own (flock): the many saltmail processes a reactor starts at once
// neither corrupt a record nor lose an update. A record that cannot be
// read is reported to Warn and taken as empty: a lost memory costs one
// repeated mail, never a crash.
//
// Nothing is created until Update writes: asking costs no directory.
// Dir must be safe (CheckDir): Update refuses another, and Recall
// warns and takes it as empty. No record or lock is read through a
// symlink.
type Memory[T any] struct {
	Dir  string
	Warn func(string)
	// Wait bounds the wait for a lock; 0 means a minute.
	Wait time.Duration
	// looked, absent: Recall found Dir missing, and asks no more files
	// (a preview of a 10,000-minion run with no state dir yet).
	looked, absent bool
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// base is a key's file name without extension: readable, and unique by
// a hash, whatever the key holds ("../", NUL, 300 characters).
func (m *Memory[T]) base(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := unsafeName.ReplaceAllString(key, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	return filepath.Join(m.Dir, name+"-"+hex.EncodeToString(sum[:6]))
}

// Check refuses a state dir another user could write (CheckDir).
func (m *Memory[T]) Check() error {
	if err := CheckDir(m.Dir); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	return nil
}

// Recall reads a key's record without its lock (the file is replaced
// atomically, so it is never seen half written): for a preview. A key
// never written gives the zero T.
func (m *Memory[T]) Recall(key string) T {
	if !m.looked {
		m.looked = true
		_, err := os.Stat(m.Dir)
		m.absent = errors.Is(err, fs.ErrNotExist)
		if err := m.Check(); err != nil && !m.absent {
			m.absent = true // a planted memory must not silence alerts
			if m.Warn != nil {
				m.Warn(fmt.Sprintf("%v; nothing is taken as reported", err))
			}
		}
	}
	if m.absent {
		var none T
		return none
	}
	return m.read(key)
}

// read reads a key's record from its file.
func (m *Memory[T]) read(key string) T {
	var rec T
	raw, err := readFile(m.base(key) + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return rec
	}
	if err == nil {
		err = json.Unmarshal(raw, &rec)
	}
	if err != nil {
		if m.Warn != nil {
			m.Warn(fmt.Sprintf("state of %s unreadable, taken as empty: %v", key, err))
		}
		var empty T
		return empty
	}
	return rec
}

// Update locks the keys (in sorted order, so two processes cannot
// deadlock), calls decide with a reader of their records under the
// locks, and writes back the records it returns, before unlocking.
func (m *Memory[T]) Update(keys []string, decide func(recall func(string) T) map[string]T) error {
	if len(keys) == 0 {
		decide(m.read) // nothing to lock, nothing to write: make no directory
		return nil
	}
	if err := MakeDir(m.Dir); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	var locks []*os.File
	defer func() {
		for _, l := range locks {
			_ = syscall.Flock(int(l.Fd()), syscall.LOCK_UN)
			l.Close()
		}
	}()
	wait := m.Wait
	if wait == 0 {
		wait = time.Minute
	}
	for i, k := range sorted {
		if i > 0 && k == sorted[i-1] {
			continue
		}
		l, err := lockFile(m.base(k)+".lock", wait)
		if err != nil {
			return err
		}
		locks = append(locks, l)
	}
	var first error
	for k, rec := range decide(m.read) {
		if err := m.write(k, rec); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (m *Memory[T]) write(key string, rec T) error {
	raw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(m.base(key)+".json", raw)
}

// lockFile takes an exclusive flock, waiting at most wait. A planted
// symlink is not followed, so it cannot make saltmail create a file
// elsewhere.
func lockFile(path string, wait time.Duration) (*os.File, error) {
	f, err := openFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	end := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(end) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
