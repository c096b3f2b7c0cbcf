package deliver_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

var addressed = []byte("From: <salt@example.com>\r\nTo: <a@example.com>, <b@example.com>\r\n\r\nbody\r\n")

// keptSpool holds one entry kept before its recipients were known, and
// counts the calls of its Address.
func keptSpool(t *testing.T, fail error) (deliver.Spool, string, *int) {
	t.Helper()
	calls := 0
	var mu sync.Mutex
	sp := deliver.Spool{Dir: t.TempDir(), Address: func(msg []byte) (deliver.Envelope, []byte, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		time.Sleep(time.Millisecond) // a moment for other flushes to try
		return deliver.Envelope{From: "salt@example.com", To: []string{"a@example.com", "b@example.com"}}, addressed, fail
	}}
	e := deliver.Envelope{From: "saltmail@master1", RecipientsFromConfig: true, Reason: "configuration error", Spooled: time.Now()}
	path, err := sp.Put(e, msg)
	if err != nil {
		t.Fatal(err)
	}
	return sp, strings.TrimSuffix(path, ".eml"), &calls
}

// A kept entry is made concrete in the spool before it is first
// offered, once: then a flush that reaches only some recipients keeps
// it for the others, as any entry. Should Address fail, it waits as it
// was.
func TestFlushAddresses(t *testing.T) {
	busy := &deliver.RecipientsError{Refused: []deliver.Refusal{{To: "b@example.com", Err: &deliver.Error{Step: "rcpt to b@example.com", Code: 450, Temporary: true, Err: errors.New("450 mailbox busy")}}}}
	for _, c := range []struct {
		name     string
		fail     error // what Address returns
		wantTo   string
		wantMsg  []byte
		wantSent []string
	}{
		{"narrowed after one was refused for now", nil, "b@example.com", addressed, []string{"a@example.com,b@example.com", "b@example.com"}},
		{"the configuration still fails", errors.New("to: at least one recipient is needed"), "", msg, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp, base, calls := keptSpool(t, c.fail)
			var sent []string
			send := func(s deliver.Spooled) error {
				sent = append(sent, strings.Join(s.Env.To, ","))
				if !bytes.Equal(s.Msg, addressed) {
					t.Errorf("sent %q", s.Msg)
				}
				return busy
			}
			var outs []deliver.Outcome
			for i := 0; i < 2; i++ {
				sp.Flush(send, func(_ deliver.Spooled, o deliver.Outcome) { outs = append(outs, o) })
			}
			raw, _ := os.ReadFile(base + ".env")
			var env deliver.Envelope
			json.Unmarshal(raw, &env)
			eml, _ := os.ReadFile(base + ".eml")
			if strings.Join(env.To, ",") != c.wantTo || env.RecipientsFromConfig == (c.fail == nil) || !bytes.Equal(eml, c.wantMsg) {
				t.Errorf("spool holds %s\n%q", raw, eml)
			}
			if strings.Join(sent, " ") != strings.Join(c.wantSent, " ") || len(outs) != 2 || outs[1].Err == nil {
				t.Errorf("sent to %q, outcomes %+v", sent, outs)
			}
			if c.fail == nil && *calls != 1 {
				t.Errorf("addressed %d times", *calls)
			}
		})
	}
}

// Flushes at the same moment send a kept entry once: the readdressed
// message is locked before it takes the old one's name.
func TestFlushAddressesConcurrently(t *testing.T) {
	for round := 0; round < 20; round++ {
		sp, _, _ := keptSpool(t, nil)
		var mu sync.Mutex
		sends := 0
		send := func(deliver.Spooled) error {
			mu.Lock()
			sends++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			return nil
		}
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 5; k++ {
					sp.Flush(send, func(deliver.Spooled, deliver.Outcome) {})
				}
			}()
		}
		wg.Wait()
		rest, _ := filepath.Glob(filepath.Join(sp.Dir, "*"))
		if sends != 1 || len(rest) != 0 {
			t.Fatalf("round %d: sent %d times, left %v", round, sends, rest)
		}
	}
}
