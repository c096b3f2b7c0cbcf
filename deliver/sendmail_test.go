package deliver_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

// recorder writes a stand-in for an MTA's sendmail program that keeps
// its arguments and input and exits with the given status: it checks
// the command-line contract, not an MTA.
func recorder(t *testing.T, exit int) (path, argsFile, inFile string) {
	dir := t.TempDir()
	argsFile, inFile = filepath.Join(dir, "args"), filepath.Join(dir, "in")
	path = filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\ncat > " + inFile + "\necho 'queue full' >&2\nexit " + string(rune('0'+exit/10)) + string(rune('0'+exit%10)) + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsFile, inFile
}

func TestSendmail(t *testing.T) {
	path, argsFile, inFile := recorder(t, 0)
	sm := &deliver.Sendmail{Path: path, Timeout: 5 * time.Second}
	if _, err := deliver.Send(sm.Dial, "salt@example.com", []string{"ops@example.com", "-oQ/tmp@example.com", "bcc@example.com"}, msg, deliver.Retry{Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(argsFile)
	if got := strings.Fields(string(args)); strings.Join(got, " ") != "-i -f salt@example.com -- ops@example.com -oQ/tmp@example.com bcc@example.com" {
		t.Errorf("args %q", got)
	}
	in, _ := os.ReadFile(inFile)
	if strings.Contains(string(in), "\r") || !strings.Contains(string(in), "Subject: [salt] web1: 1 failed\n") {
		t.Errorf("stdin %q", in)
	}
}

func TestSendmailTempFail(t *testing.T) {
	path, _, _ := recorder(t, 75)
	sm := &deliver.Sendmail{Path: path, Timeout: 5 * time.Second}
	var waits []time.Duration
	tries, err := deliver.Send(sm.Dial, "a@example.com", []string{"b@example.com"}, msg, noSleep(&waits))
	if err == nil || !deliver.IsTemporary(err) || tries != 4 || !strings.Contains(err.Error(), "queue full") {
		t.Fatalf("tries %d err %v", tries, err)
	}
	path, _, _ = recorder(t, 67)
	sm.Path = path
	tries, err = deliver.Send(sm.Dial, "a@example.com", []string{"b@example.com"}, msg, noSleep(&waits))
	if err == nil || deliver.IsTemporary(err) || tries != 1 {
		t.Fatalf("tries %d err %v", tries, err)
	}
}

// script writes a shell script standing in for sendmail.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sendmail")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// alive says whether the process whose pid is in file still runs.
func alive(t *testing.T, file string) bool {
	raw, err := os.ReadFile(file)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		t.Fatalf("no pid in %s: %v", file, err)
	}
	for i := 0; i < 50; i++ { // a zombie is dead: init may be slow to reap it
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// A sendmail program holds saltmail no longer than its time-out plus a
// few seconds, whatever it leaves behind: on time-out its whole process
// group is killed, helpers included; a helper that keeps its output
// open after it exited does not hold saltmail; what it prints is kept
// bounded, its tail in the error; it gets the environment it is given.
func TestSendmailBounded(t *testing.T) {
	dir := t.TempDir()
	pid := filepath.Join(dir, "pid")
	for _, c := range []struct {
		name    string
		body    string
		env     []string
		wantErr string // "" : accepted
		within  time.Duration
		helper  string // "killed", "alive" or "" (none)
		maxHeap uint64 // bytes saltmail may allocate, 0: not measured
	}{
		{"helper outlives the time-out", "sleep 20 & echo $! > " + pid + "; cat >/dev/null; wait", nil, "no answer within 1s", 8 * time.Second, "killed", 0},
		{"helper hangs for ever", "sh -c 'trap \"\" TERM; sleep 30' & echo $! > " + pid + "; cat >/dev/null; sleep 30", nil, "no answer within 1s", 8 * time.Second, "killed", 0},
		{"helper holds the output after exit 0", "sleep 20 & echo $! > " + pid + "; cat >/dev/null; exit 0", nil, "", 8 * time.Second, "alive", 0},
		{"endless output", "cat >/dev/null; head -c 67108864 /dev/zero | tr '\\0' x; echo; echo 'the last words' >&2; exit 1", nil, "the last words", 20 * time.Second, "", 16 << 20},
		{"environment as given", `cat >/dev/null; [ -z "$SALTMAIL_SMTP_PASSWORD" ] && [ "$LANG" = C ] || exit 1`, []string{"LANG=C", "PATH=" + os.Getenv("PATH")}, "", 8 * time.Second, "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("SALTMAIL_SMTP_PASSWORD", "secret")
			os.Remove(pid)
			sm := &deliver.Sendmail{Path: script(t, c.body), Timeout: time.Second, Env: c.env}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := deliver.Send(sm.Dial, "a@example.com", []string{"b@example.com"}, msg, deliver.Retry{Attempts: 1})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if took > c.within || (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("took %v, error %v", took, err)
			}
			if err != nil && len(err.Error()) > 1000 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			if c.maxHeap > 0 && after.TotalAlloc-before.TotalAlloc > c.maxHeap {
				t.Errorf("allocated %d bytes for its output", after.TotalAlloc-before.TotalAlloc)
			}
			if c.helper != "" {
				alive := alive(t, pid)
				if alive != (c.helper == "alive") {
					t.Errorf("helper alive: %v, want %s", alive, c.helper)
				}
				if raw, _ := os.ReadFile(pid); alive {
					p, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
					syscall.Kill(p, syscall.SIGKILL)
				}
			}
		})
	}
}
