package deliver_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/deliver"
)

// What a flush finds beside a message decides whether it is offered:
// a .sending (a flush killed while it sent, or one that could not put
// the message back) is offered again, to those it had not reached yet,
// since it may never have reached the server (no loss first); a .sent,
// or a .sending that records the sending, never is.
func TestFlushMarkers(t *testing.T) {
	busy := &deliver.RecipientsError{Refused: []deliver.Refusal{{To: "b@example.com", Err: &deliver.Error{Step: "rcpt to b@example.com", Code: 450, Temporary: true, Err: errors.New("450 mailbox busy")}}}}
	for _, c := range []struct {
		name  string
		mark  string // the envelope renamed to this before the flushes
		first error  // what the first send returns
		ops   string // what fails from the first send on, until the second flush
		want  []string
	}{
		{"killed while sending", ".sending", nil, "", []string{"a,b"}},
		{"sent, not removed yet", ".sent", nil, "", nil},
		{"not put back: nothing could be written", "", busy, "rename remove write append", []string{"a,b", "a,b"}},
		{"not put back: the narrowed envelope was written", "", busy, "rename remove", []string{"a,b", "b"}},
		{"sent, the dir turned read-only", "", nil, "rename remove write", []string{"a,b"}},
		{"sent, the file system turned read-only", "", nil, "rename remove write append", []string{"a,b", "a,b"}}, // nothing can record it: a duplicate, no loss
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := deliver.Spool{Dir: t.TempDir()}
			base := strings.TrimSuffix(putOne(t, sp, "a@example.com", "b@example.com"), ".eml")
			if c.mark != "" {
				if err := os.Rename(base+".env", base+c.mark); err != nil {
					t.Fatal(err)
				}
			}
			broken := false
			deliver.FailFS(t, &broken, c.ops, fs.ErrPermission)
			var got []string
			send := func(s deliver.Spooled) error {
				got = append(got, strings.ReplaceAll(strings.Join(s.Env.To, ","), "@example.com", ""))
				if len(got) > 1 {
					return nil
				}
				broken = c.ops != ""
				return c.first
			}
			for i := 0; i < 3; i++ {
				sp.Flush(send, func(deliver.Spooled, deliver.Outcome) {})
				broken = false
			}
			rest, _ := filepath.Glob(filepath.Join(sp.Dir, "*"))
			if strings.Join(got, " ") != strings.Join(c.want, " ") || len(rest) != 0 {
				t.Errorf("sent to %q, want %q; left %v", got, c.want, rest)
			}
		})
	}
}

// The recorded sending survives in the marker: listing says so.
func TestListSentInPlace(t *testing.T) {
	sp := deliver.Spool{Dir: t.TempDir()}
	putOne(t, sp, "a@example.com")
	broken := false
	deliver.FailFS(t, &broken, "rename remove write", fs.ErrPermission)
	sp.Flush(func(deliver.Spooled) error { broken = true; return nil }, func(deliver.Spooled, deliver.Outcome) {})
	got, err := sp.List()
	if err != nil || len(got) != 1 || got[0].Reason != "sent; not removed yet" || strings.Join(got[0].Env.To, ",") != "a@example.com" {
		t.Errorf("%+v %v", got, err)
	}
}
