package deliver_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	sent, left, err := sp.Flush(func(deliver.Spooled) error { return errors.New("still down") }, func(deliver.Spooled, error) {})
	if sent != 0 || left != 1 || err != nil {
		t.Fatalf("sent %d left %d err %v", sent, left, err)
	}
	var got []deliver.Spooled
	sent, left, _ = sp.Flush(func(s deliver.Spooled) error { got = append(got, s); return nil }, func(deliver.Spooled, error) {})
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
	sp.Flush(func(s deliver.Spooled) error { order = append(order, string(s.Msg)); return nil }, func(deliver.Spooled, error) {})
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
					sp.Flush(send, func(deliver.Spooled, error) {})
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	fg.Wait()
	sp.Flush(send, func(deliver.Spooled, error) {}) // what arrived last
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
