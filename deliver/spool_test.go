package deliver_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

func TestSpoolPutAndFlush(t *testing.T) {
	sp := deliver.Spool{Dir: filepath.Join(t.TempDir(), "new", "spool")}
	env := deliver.Envelope{From: "salt@example.com", To: []string{"ops@example.com", "hidden@example.com"}, Reason: "554 rejected", Spooled: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	path, err := sp.Put(env, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(path), "20261125T100000.000000000Z-") || !strings.HasSuffix(path, ".eml") {
		t.Errorf("name %s", path)
	}
	st, _ := os.Stat(sp.Dir)
	fst, _ := os.Stat(path)
	if st.Mode().Perm() != 0o700 || fst.Mode().Perm() != 0o600 {
		t.Errorf("modes %v %v", st.Mode(), fst.Mode())
	}
	// The first flush fails: the message stays.
	sent, left, err := sp.Flush(func(deliver.Spooled) error { return errors.New("still down") }, func(deliver.Spooled, deliver.Outcome) {})
	if sent != 0 || left != 1 || err != nil {
		t.Fatalf("sent %d left %d err %v", sent, left, err)
	}
	var got []deliver.Spooled
	sent, left, _ = sp.Flush(func(s deliver.Spooled) error { got = append(got, s); return nil }, func(deliver.Spooled, deliver.Outcome) {})
	if sent != 1 || left != 0 || len(got) != 1 {
		t.Fatalf("sent %d left %d", sent, left)
	}
	if !bytes.Equal(got[0].Msg, msg) || strings.Join(got[0].Env.To, ",") != "ops@example.com,hidden@example.com" || got[0].Env.From != env.From {
		t.Errorf("flushed %+v", got[0].Env)
	}
	if rest, _ := os.ReadDir(sp.Dir); len(rest) != 0 {
		t.Errorf("left in spool: %v", rest)
	}
}

func TestFlushOldestFirst(t *testing.T) {
	sp := deliver.Spool{Dir: t.TempDir()}
	for i := 3; i >= 1; i-- {
		env := deliver.Envelope{From: "a@example.com", To: []string{"b@example.com"}, Spooled: time.Date(2026, 11, 25, 10, i, 0, 0, time.UTC)}
		if _, err := sp.Put(env, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	sp.Flush(func(s deliver.Spooled) error { order = append(order, string(s.Msg)); return nil }, func(deliver.Spooled, deliver.Outcome) {})
	if strings.Join(order, "") != "123" {
		t.Errorf("order %v", order)
	}
}

// Many senders spooling while several flushes run: every message is
// sent exactly once, none is lost.
func TestSpoolConcurrency(t *testing.T) {
	sp := deliver.Spool{Dir: t.TempDir()}
	const senders, perSender, flushers = 8, 25, 4
	var mu sync.Mutex
	count := map[string]int{}
	send := func(s deliver.Spooled) error {
		mu.Lock()
		count[string(s.Msg)]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // hold the lock a moment, so flushes overlap
		return nil
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < senders; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for k := 0; k < perSender; k++ {
				env := deliver.Envelope{From: "a@example.com", To: []string{"b@example.com"}, Spooled: time.Now()}
				if _, err := sp.Put(env, []byte(fmt.Sprintf("msg-%d-%d", i, k))); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	var fg sync.WaitGroup
	for i := 0; i < flushers; i++ {
		fg.Add(1)
		go func() {
			defer fg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					sp.Flush(send, func(deliver.Spooled, deliver.Outcome) {})
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	fg.Wait()
	sp.Flush(send, func(deliver.Spooled, deliver.Outcome) {}) // what arrived last
	if len(count) != senders*perSender {
		t.Fatalf("%d distinct messages sent, want %d", len(count), senders*perSender)
	}
	for m, n := range count {
		if n != 1 {
			t.Errorf("%s sent %d times", m, n)
		}
	}
	if rest, _ := filepath.Glob(filepath.Join(sp.Dir, "*")); len(rest) != 0 {
		t.Errorf("left: %v", rest)
	}
}

// A spool dir that turns read-only once the server accepted a message
// (its remove fails, or every rename, remove and new file): no later
// flush sends it again, and once the spool is writable again it is
// cleaned away. When not even its .sent could be made, the sending is
// recorded in the marker file itself, which needs no write to the dir.
func TestFlushNeverSendsTwice(t *testing.T) {
	for _, c := range []struct {
		name string
		ops  string // what fails once the server accepted it
	}{
		{"remove fails", "remove"},
		{"read-only", "rename remove write"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := deliver.Spool{Dir: t.TempDir()}
			env := deliver.Envelope{From: "a@example.com", To: []string{"b@example.com"}, Spooled: time.Now()}
			if _, err := sp.Put(env, msg); err != nil {
				t.Fatal(err)
			}
			broken := false
			deliver.FailFS(t, &broken, c.ops, fs.ErrPermission)
			sends := 0
			send := func(deliver.Spooled) error { sends++; broken = true; return nil }
			var outs []deliver.Outcome
			done := func(_ deliver.Spooled, o deliver.Outcome) { outs = append(outs, o) }
			for i := 0; i < 3; i++ {
				sp.Flush(send, done)
			}
			if sends != 1 || len(outs) != 3 || !outs[0].Sent || outs[0].Err == nil || outs[1].Sent || outs[2].Sent {
				t.Fatalf("%d sends, outcomes %+v", sends, outs)
			}
			broken = false
			sp.Flush(send, done)
			failed, _ := filepath.Glob(filepath.Join(sp.Dir, "failed", "*"))
			rest, _ := filepath.Glob(filepath.Join(sp.Dir, "*.*"))
			if sends != 1 || len(rest) != 0 || len(failed) != 0 {
				t.Errorf("%d sends; left %v, failed %v; last %+v", sends, rest, failed, outs[len(outs)-1])
			}
		})
	}
}

// The spool and its entries are created 0700 and 0600 whatever the
// umask, parents included.
func TestSpoolDirModes(t *testing.T) {
	old := syscall.Umask(0o277)
	defer syscall.Umask(old)
	root := t.TempDir()
	sp := deliver.Spool{Dir: filepath.Join(root, "a", "b", "spool")}
	if _, err := sp.Put(deliver.Envelope{To: []string{"b@example.com"}}, msg); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "a/b", "a/b/spool"} {
		if st, err := os.Stat(filepath.Join(root, d)); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", d, st.Mode(), err)
		}
	}
}
