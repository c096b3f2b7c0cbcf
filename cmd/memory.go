package cmd

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

	"github.com/saltmail/saltmail/filter"
	"github.com/saltmail/saltmail/report"
	"github.com/saltmail/saltmail/report/deliver"
)

// memoryStore keeps what was reported, one JSON file per minion in the
// state dir, each guarded by its own lock file (flock), so that the
// many saltmail processes a reactor starts at once neither corrupt a
// file nor lose an update. A file that cannot be read is reported and
// taken as empty: a lost memory costs one repeated mail, never a crash.
type memoryStore struct {
	dir  string
	warn func(string)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func (s memoryStore) base(minion string) string {
	sum := sha256.Sum256([]byte(minion))
	name := unsafeName.ReplaceAllString(minion, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	return filepath.Join(s.dir, name+"-"+hex.EncodeToString(sum[:6]))
}

func (s memoryStore) read(minion string) filter.Memory {
	raw, err := os.ReadFile(s.base(minion) + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return filter.Memory{}
	}
	var m filter.Memory
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil {
		s.warn(fmt.Sprintf("state of %s unreadable, taken as empty: %v", minion, err))
		return filter.Memory{}
	}
	return m
}

func (s memoryStore) write(minion string, m filter.Memory) error {
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return deliver.WriteFileAtomic(s.base(minion)+".json", raw)
}

// update locks the minions (in sorted order, so two processes cannot
// deadlock), calls decide with their memories read under the locks,
// and writes back what it returns.
func (s memoryStore) update(minions []string, decide func(prev func(string) filter.Memory) map[string]filter.Memory) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	sorted := append([]string(nil), minions...)
	sort.Strings(sorted)
	var locks []*os.File
	defer func() {
		for _, l := range locks {
			syscall.Flock(int(l.Fd()), syscall.LOCK_UN)
			l.Close()
		}
	}()
	for i, m := range sorted {
		if i > 0 && m == sorted[i-1] {
			continue
		}
		l, err := lockFile(s.base(m)+".lock", time.Minute)
		if err != nil {
			return err
		}
		locks = append(locks, l)
	}
	next := decide(s.read)
	var first error
	for m, mem := range next {
		if err := s.write(m, mem); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// lockFile takes an exclusive flock, waiting at most wait.
func lockFile(path string, wait time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
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

// memory returns the store of what was reported, in state_dir (default:
// saltmail-state beside the spool), or nil when the directory cannot be
// made: then every alert is mailed, which is better than none.
func (c *Config) memory(f *Factory) *memoryStore {
	dir := c.stateDir(c.spool(f.getenv))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.warn(fmt.Sprintf("state dir %s: %v; repeats are not suppressed", dir, err))
		return nil
	}
	return &memoryStore{dir: dir, warn: f.warn}
}

// memoryToRead is the memory as render sees it: read when it exists,
// never created or written, so a preview changes nothing.
func (c *Config) memoryToRead(f *Factory) *memoryStore {
	dir := c.stateDir(c.spoolAt(f.getenv, isDir))
	if !isDir(dir) {
		return nil
	}
	return &memoryStore{dir: dir, warn: f.warn}
}

func (c *Config) stateDir(sp deliver.Spool) string {
	if c.StateDir != "" {
		return c.StateDir
	}
	return filepath.Join(filepath.Dir(sp.Dir), "saltmail-state")
}

func (c *Config) policy() filter.Policy {
	return filter.Policy{RepeatInterval: c.RepeatInterval, SendResolved: c.SendResolved, SuppressChanges: c.SuppressChanges}
}

// watch lets the evaluator note which states succeeded, so that a
// remembered failure can be resolved.
func (s *memoryStore) watch(in *inputOptions) {
	in.Filter.KeepSucceeded = s != nil
}

// news leaves out of the verdict what was reported already, remembers
// what is reported now (unless only previewing), and renders the mails:
// the report, and one saying which failures are resolved.
func (p *mailPlan) news(v *filter.Verdict, store *memoryStore, policy filter.Policy, now time.Time, host string, preview bool) ([]outgoing, error) {
	var resolved []filter.Resolved
	if store != nil && preview {
		v, resolved, _ = filter.Suppress(v, store.read, now, policy)
	} else if store != nil {
		var minions []string
		for _, m := range v.Results {
			minions = append(minions, m.ID)
		}
		err := store.update(minions, func(prev func(string) filter.Memory) map[string]filter.Memory {
			var next map[string]filter.Memory
			v, resolved, next = filter.Suppress(v, prev, now, policy)
			return next
		})
		if err != nil {
			store.warn(fmt.Sprintf("state dir %s: %v; repeats may be mailed again", store.dir, err))
		}
	}
	msgs, err := p.messages(v, now, host)
	if err != nil || len(resolved) == 0 {
		return msgs, err
	}
	m, err := report.BuildResolved(resolved, p.options(now, host))
	if err != nil {
		return nil, err
	}
	o, err := p.outgoing(m)
	if err != nil {
		return nil, err
	}
	return append(msgs, o), nil
}
