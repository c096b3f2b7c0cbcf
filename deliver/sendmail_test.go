package deliver_test

import (
	"os"
	"path/filepath"
	"strings"
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
