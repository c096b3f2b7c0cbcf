package cmd

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
)

var spooledMsg = []byte("From: <salt@example.com>\r\nTo: <ops@example.com>\r\nSubject: [salt] web1: 1 failed\r\n\r\nweb1:\r\n")

// spoolOne puts a message for to in a new spool and returns the spool
// and the message's path without extension.
func spoolOne(t *testing.T, to ...string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "spool")
	env := deliver.Envelope{From: "salt@example.com", To: to, Reason: "554 rejected", Spooled: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	path, err := deliver.Spool{Dir: dir}.Put(env, spooledMsg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, strings.TrimSuffix(path, ".eml")
}

func flush(t *testing.T, s *smtptest.Server, spool string, extra ...string) (int, string) {
	t.Helper()
	f, _, errb := fixedFactory(t, "")
	code := Main(f, append(append([]string{"flush"}, flushArgs(t, s, spool)...), extra...))
	return code, errb.String()
}

// A message or envelope in the spool that links to another file is
// never followed: the file's contents reach no server, and the entry is
// moved to failed/ and said.
func TestFlushFollowsNoLink(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("root:SECRET-HASH:19000:0:99999:7:::\n"), 0o600)
	outsider := filepath.Join(t.TempDir(), "outsider.env")
	os.WriteFile(outsider, []byte(`{"from":"salt@example.com","to":["thief@example.net"]}`), 0o600)
	for _, c := range []struct{ name, ext, target string }{
		{"message links to a secret", ".eml", secret},
		{"envelope links to another's", ".env", outsider},
	} {
		t.Run(c.name, func(t *testing.T) {
			spool, base := spoolOne(t, "ops@example.com")
			os.Remove(base + c.ext)
			if err := os.Symlink(c.target, base+c.ext); err != nil {
				t.Fatal(err)
			}
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			code, stderr := flush(t, s, spool)
			if code != 0 || len(s.Messages()) != 0 || !strings.Contains(stderr, base+".eml: moved to failed/: ") || !strings.Contains(stderr, "not a regular file") {
				t.Fatalf("exit %d, %d mails, stderr %q", code, len(s.Messages()), stderr)
			}
		})
	}
}

// A spool or state dir another user could write is refused with exit
// 2, naming it, before any input is read or anything sent.
func TestUnsafeDirRefused(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	cases := []struct {
		name  string
		args  func(dir string) []string
		spoil func(t *testing.T, dir string)
		want  string // "" : accepted
		// mayRead: the root command reads its input after a
		// configuration error, to keep the alert (configerror.go).
		mayRead bool
	}{
		{"flush, group-writable spool", func(d string) []string { return append([]string{"flush"}, flushArgs(t, s, d)...) }, chmod(0o770), "writable by group or others (mode 0770)", false},
		{"flush --list, world-writable spool", func(d string) []string { return []string{"flush", "--list", "--spool-dir", d} }, chmod(0o777), "writable by group or others", false},
		{"flush, another user's spool", func(d string) []string { return append([]string{"flush"}, flushArgs(t, s, d)...) }, giveAway, "owned by uid 65534", false},
		{"send, world-writable state dir", func(d string) []string {
			return append([]string{"--to", "ops@example.com"}, append(transportArgs(t, s), "--spool-dir", t.TempDir(), "--state-dir", d)...)
		}, chmod(0o777), "state dir: " + "DIR", true},
		{"flush, spool linked to a safe dir", func(d string) []string { return append([]string{"flush"}, flushArgs(t, s, d)...) }, linked, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dir")
			os.Mkdir(dir, 0o700)
			c.spoil(t, dir)
			f, _, errb := fixedFactory(t, "")
			stdin := &readCount{r: strings.NewReader("{}")}
			f.Stdin = stdin
			code := Main(f, c.args(dir))
			if c.want == "" {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errb)
				}
				return
			}
			if code != 2 || !strings.Contains(errb.String(), dir+": ") || !strings.Contains(errb.String(), strings.ReplaceAll(c.want, "DIR", dir)) || (stdin.n != 0 && !c.mayRead) || len(s.Messages()) != 0 {
				t.Errorf("exit %d, stdin read %d times, %d mails, stderr %q", code, stdin.n, len(s.Messages()), errb)
			}
		})
	}
}

type readCount struct {
	r io.Reader
	n int
}

func (r *readCount) Read(p []byte) (int, error) { r.n++; return r.r.Read(p) }

func chmod(mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, dir string) { os.Chmod(dir, mode) }
}

func giveAway(t *testing.T, dir string) {
	if os.Geteuid() != 0 {
		t.Skip("giving a dir to another user needs root")
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

// linked makes dir a symlink (the running user's) to a safe dir.
func linked(t *testing.T, dir string) {
	real := filepath.Join(t.TempDir(), "real")
	os.Mkdir(real, 0o700)
	os.Remove(dir)
	if err := os.Symlink(real, dir); err != nil {
		t.Fatal(err)
	}
}

// What can never be sent is moved to failed/ and said once: that flush
// and the next exit 0, and the next says nothing.
func TestFlushMovesAsideOnce(t *testing.T) {
	for _, c := range []struct {
		name   string
		to     []string
		spoil  func(base string)
		server smtptest.Options
		reason string
	}{
		{"no recipient", nil, nil, smtptest.Options{}, "the envelope names no recipient"},
		{"corrupt envelope", []string{"ops@example.com"}, func(b string) { os.WriteFile(b+".env", []byte("{"), 0o600) }, smtptest.Options{}, "is corrupt"},
		{"missing envelope", []string{"ops@example.com"}, func(b string) { os.Remove(b + ".env") }, smtptest.Options{}, "is missing"},
		{"refused for good", []string{"ops@example.com"}, nil, smtptest.Options{FailData: []error{smtptest.Perm}}, "554"},
	} {
		t.Run(c.name, func(t *testing.T) {
			spool, base := spoolOne(t, c.to...)
			if c.spoil != nil {
				c.spoil(base)
			}
			c.server.Mode = smtptest.StartTLS
			s := smtptest.Start(t, c.server)
			code, stderr := flush(t, s, spool)
			failed := filepath.Join(spool, "failed", filepath.Base(base))
			reason, _ := os.ReadFile(failed + ".reason")
			if code != 0 || !strings.Contains(stderr, base+".eml: moved to failed/: ") || !strings.Contains(stderr, c.reason) || !strings.Contains(string(reason), c.reason) {
				t.Fatalf("exit %d, reason %q, stderr %q", code, reason, stderr)
			}
			if eml, _ := os.ReadFile(failed + ".eml"); !bytes.Equal(eml, spooledMsg) || len(s.Messages()) != 0 {
				t.Errorf("failed/ holds %q; %d mails", eml, len(s.Messages()))
			}
			if code, stderr := flush(t, s, spool); code != 0 || stderr != "" {
				t.Errorf("second flush: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

// A spool that cannot be written (immutable here: root ignores modes)
// is flushed twice: the message reaches the server at most once.
func TestFlushReadOnlySpool(t *testing.T) {
	chattr, err := exec.LookPath("chattr")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and chattr to make a dir read-only for root")
	}
	spool, base := spoolOne(t, "ops@example.com")
	if out, err := exec.Command(chattr, "+i", spool).CombinedOutput(); err != nil {
		t.Skipf("this file system keeps no immutable flag: %s", out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", spool).Run() })
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	for i := 0; i < 2; i++ {
		if code, stderr := flush(t, s, spool); code != 1 || !strings.Contains(stderr, base+".eml: ") {
			t.Errorf("flush %d: exit %d, stderr %q", i+1, code, stderr)
		}
	}
	if n := len(s.Messages()); n > 1 {
		t.Errorf("sent %d times", n)
	}
}

// flush --list shows what waits and what failed, one line each, needs
// no server and sends nothing.
func TestFlushList(t *testing.T) {
	spool, waiting := spoolOne(t, "ops@example.com", "audit@example.com")
	env := deliver.Envelope{From: "salt@example.com", Spooled: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	bad, _ := deliver.Spool{Dir: spool}.Put(env, []byte("Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\n"))
	later := func(deliver.Spooled) error { return errors.New("451 try again later") }
	deliver.Spool{Dir: spool}.Flush(later, func(deliver.Spooled, deliver.Outcome) {})
	f, out, errb := fixedFactory(t, "")
	if code := Main(f, []string{"flush", "--list", "--spool-dir", spool}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	failed := filepath.Join(spool, "failed", filepath.Base(bad))
	want := "waiting\t" + waiting + ".eml\t2026-11-25T10:00:00Z\tops@example.com,audit@example.com\t[salt] web1: 1 failed\t451 try again later\n" +
		"failed\t" + failed + "\t2026-11-25T09:00:00Z\t-\tcafé\tthe envelope names no recipient\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// With neither HOME nor XDG_STATE_HOME the user's spool is under the
// home of the passwd entry, and with no home at all there is none of
// its own: never /tmp, where another user could make it first.
func TestDefaultPathsNeverTmp(t *testing.T) {
	old := passwdHome
	t.Cleanup(func() { passwdHome = old })
	for _, c := range []struct {
		name, home, xdg, passwd, want string
	}{
		{"XDG_STATE_HOME", "/home/u", "/state", "/root", "/state/saltmail/spool"},
		{"HOME", "/home/u", "", "/root", "/home/u/.local/state/saltmail/spool"},
		{"relative XDG_STATE_HOME is ignored", "/home/u", "state", "/root", "/home/u/.local/state/saltmail/spool"},
		{"passwd", "", "", "/var/lib/salt", "/var/lib/salt/.local/state/saltmail/spool"},
		{"no home at all", "", "", "", DefaultSpoolDir},
	} {
		passwdHome = func() string { return c.passwd }
		env := map[string]string{"HOME": c.home, "XDG_STATE_HOME": c.xdg}
		p := DefaultPaths(func(k string) string { return env[k] })
		if p.UserSpoolDir != c.want || strings.HasPrefix(p.UserSpoolDir, os.TempDir()) || strings.HasPrefix(p.UserSpoolDir, "/tmp") {
			t.Errorf("%s: %s, want %s", c.name, p.UserSpoolDir, c.want)
		}
	}
}

// flush --list shows the default spool too when spool_dir names
// another: a run whose configuration failed kept its alert there, and
// flush sends it. Each line's path says its spool; none is listed twice.
func TestFlushListDefaultSpool(t *testing.T) {
	for _, c := range []struct {
		name      string
		ownSpool  bool // spool_dir names a spool other than the default
		wantLines int
	}{
		{"spool_dir names another", true, 2},
		{"spool_dir is the default", false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, "")
			cfg := filepath.Join(t.TempDir(), "saltmail.yaml")
			os.WriteFile(cfg, []byte("to: [ops@example.com]\nrepeat_intervall: 1h\n"), 0o600)
			if code := Main(f, []string{"--config", cfg, corpus("master/salt.state.apply.mixed.json.out")}); code != 2 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			spool := f.Paths.SpoolDir
			if c.ownSpool {
				spool, _ = spoolOne(t, "ops@example.com")
			}
			os.WriteFile(cfg, []byte("to: [ops@example.com]\nspool_dir: "+spool+"\n"), 0o600)
			if code := Main(f, []string{"flush", "--list", "--config", cfg}); code != 0 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			last := lines[len(lines)-1]
			if len(lines) != c.wantLines || !strings.HasPrefix(last, "waiting\t"+f.Paths.SpoolDir+"/") || !strings.Contains(last, "\t(the configuration's)\t") {
				t.Errorf("listed\n%s", out)
			}
			if c.ownSpool && !strings.HasPrefix(lines[0], "waiting\t"+spool+"/") {
				t.Errorf("the configured spool is not listed first:\n%s", out)
			}
		})
	}
}
