package deliver_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

// putOne spools msg for to and returns the path of its .eml.
func putOne(t *testing.T, sp deliver.Spool, to ...string) string {
	t.Helper()
	env := deliver.Envelope{From: "salt@example.com", To: to, Reason: "554 rejected", Spooled: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	path, err := sp.Put(env, msg)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func replaceWithLink(t *testing.T, path, target string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// What can never be sent is moved to failed/ with its reason, told
// once, and counts as nothing left; what the transport refused for good
// (a wrong password) keeps waiting, and so does an envelope whose
// recipients are the configuration's.
func TestFlushMovesAside(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("root:SECRET-HASH:19000::::::\n"), 0o600)
	outsider := filepath.Join(t.TempDir(), "outsider.env")
	os.WriteFile(outsider, []byte(`{"from":"a@example.com","to":["thief@example.net"]}`), 0o600)
	cases := []struct {
		name    string
		to      []string
		spoil   func(eml string)
		sendErr error
		reason  string // "" : it keeps waiting
		sends   int
	}{
		{"no recipient", nil, nil, nil, "names no recipient", 0},
		{"blank recipient", []string{" "}, nil, nil, "names no recipient", 0},
		{"corrupt envelope", []string{"b@example.com"}, func(eml string) { os.WriteFile(env(eml), []byte("{not json"), 0o600) }, nil, "corrupt", 0},
		{"missing envelope", []string{"b@example.com"}, func(eml string) { os.Remove(env(eml)) }, nil, "is missing", 0},
		{"message links to a secret", []string{"b@example.com"}, func(eml string) { replaceWithLink(t, eml, secret) }, nil, "not a regular file", 0},
		{"envelope links elsewhere", []string{"b@example.com"}, func(eml string) { replaceWithLink(t, env(eml), outsider) }, nil, "not a regular file", 0},
		{"data refused for good", []string{"b@example.com"}, nil, &deliver.Error{Step: "data", Code: 554, Err: errors.New("554 rejected by policy")}, "554 rejected by policy", 1},
		{"every recipient refused", []string{"b@example.com"}, nil, &deliver.RecipientsError{Refused: []deliver.Refusal{{To: "b@example.com", Err: &deliver.Error{Step: "rcpt to b@example.com", Code: 550, Err: errors.New("550 no such user")}}}}, "not delivered to 1", 1},
		{"auth refused", []string{"b@example.com"}, nil, &deliver.Error{Step: "auth", Code: 535, Err: errors.New("535 bad password")}, "", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp := deliver.Spool{Dir: t.TempDir()}
			eml := putOne(t, sp, c.to...)
			if c.spoil != nil {
				c.spoil(eml)
			}
			var sent []deliver.Spooled
			send := func(s deliver.Spooled) error { sent = append(sent, s); return c.sendErr }
			var outs []deliver.Outcome
			done := func(_ deliver.Spooled, o deliver.Outcome) { outs = append(outs, o) }
			_, left, err := sp.Flush(send, done)
			if err != nil || len(sent) != c.sends || len(outs) != 1 || !strings.Contains(outs[0].Failed, c.reason) {
				t.Fatalf("err %v, %d sends, outcomes %+v", err, len(sent), outs)
			}
			failed := filepath.Join(sp.Dir, "failed", filepath.Base(eml))
			if c.reason == "" {
				if left != 1 || outs[0].Err == nil || present(failed) {
					t.Errorf("left %d, outcome %+v: it must keep waiting", left, outs[0])
				}
				return
			}
			reason, _ := os.ReadFile(strings.TrimSuffix(failed, ".eml") + ".reason")
			if left != 0 || outs[0].Err != nil || present(eml) || !present(failed) || !strings.Contains(string(reason), c.reason) {
				t.Errorf("left %d, outcome %+v, reason %q", left, outs[0], reason)
			}
			outs = nil
			if _, left, _ := sp.Flush(send, done); left != 0 || len(outs) != 0 || len(sent) != c.sends {
				t.Errorf("second flush: left %d, outcomes %+v, %d sends", left, outs, len(sent))
			}
		})
	}
}

func env(eml string) string { return strings.TrimSuffix(eml, ".eml") + ".env" }

func present(path string) bool { _, err := os.Lstat(path); return err == nil }

// An envelope whose recipients are the configuration's is no "no
// recipient": it goes to send as it is.
func TestFlushRecipientsFromConfig(t *testing.T) {
	sp := deliver.Spool{Dir: t.TempDir()}
	e := deliver.Envelope{From: "salt@example.com", RecipientsFromConfig: true, Spooled: time.Now()}
	if _, err := sp.Put(e, msg); err != nil {
		t.Fatal(err)
	}
	var got []deliver.Envelope
	sent, left, _ := sp.Flush(func(s deliver.Spooled) error { got = append(got, s.Env); return nil }, func(deliver.Spooled, deliver.Outcome) {})
	if sent != 1 || left != 0 || len(got) != 1 || !got[0].RecipientsFromConfig {
		t.Errorf("sent %d left %d, envelopes %+v", sent, left, got)
	}
}

// List shows what waits and what failed, and changes nothing.
func TestSpoolList(t *testing.T) {
	sp := deliver.Spool{Dir: t.TempDir()}
	waiting := putOne(t, sp, "ops@example.com", "audit@example.com")
	bad := putOne(t, sp)
	sp.Flush(func(deliver.Spooled) error { return errors.New("451 later") }, func(deliver.Spooled, deliver.Outcome) {})
	got, err := sp.List()
	if err != nil || len(got) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	w, f := got[0], got[1]
	if w.Path != waiting || w.Failed || strings.Join(w.Env.To, ",") != "ops@example.com,audit@example.com" || w.Subject != "[salt] web1: 1 failed" || w.Reason != "451 later" {
		t.Errorf("waiting %+v", w)
	}
	if f.Path != filepath.Join(sp.Dir, "failed", filepath.Base(bad)) || !f.Failed || f.Reason != "the envelope names no recipient" || !f.Env.Spooled.Equal(w.Env.Spooled) {
		t.Errorf("failed %+v", f)
	}
	if again, _ := sp.List(); len(again) != 2 || !present(waiting) {
		t.Errorf("listing changed the spool: %+v", again)
	}
}
