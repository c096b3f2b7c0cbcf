package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver/smtptest"
)

// stallingServer greets, answers EHLO, then never answers MAIL FROM: a
// delivery in flight for as long as the test wants. It tells reached
// when a client got that far.
func stallingServer(t *testing.T) (port int, reached <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 8)
	f := smtptest.StartFake(t, func(_ *smtptest.Fake, c net.Conn) {
		fmt.Fprint(c, "220 stall ESMTP\r\n")
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(strings.ToUpper(line), "MAIL") {
				ch <- struct{}{}
				_, _ = r.ReadString('\n') // wait until the client goes
				return
			}
			fmt.Fprint(c, "250 stall\r\n")
		}
	})
	return f.Port, ch
}

// startSaltmail runs this test binary as saltmail (TestMain) on input.
func startSaltmail(t *testing.T, root, input string, args ...string) *exec.Cmd {
	t.Helper()
	argv, _ := json.Marshal(args)
	c := exec.Command(os.Args[0])
	c.Env = append(os.Environ(), "SALTMAIL_AS_MAIN="+string(argv), "SALTMAIL_TEST_ROOT="+root)
	in, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	c.Stdin = in
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// signalAtMail waits until p reached the stalling server's MAIL FROM,
// sends it sig, and returns its exit code.
func signalAtMail(t *testing.T, p *exec.Cmd, reached <-chan struct{}, sig syscall.Signal) int {
	t.Helper()
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		p.Process.Kill()
		t.Fatal("saltmail never reached MAIL FROM")
	}
	_ = p.Process.Signal(sig)
	_ = p.Wait()
	return p.ProcessState.ExitCode()
}

func memories(t *testing.T, state string) []string {
	files, _ := filepath.Glob(filepath.Join(state, "*.json"))
	return files
}

// A run stopped while it talks to the server records nothing as mailed
// unless the mail is spooled: SIGTERM spools what is in flight and the
// rest, then records; kill -9 records nothing, so the next run mails.
func TestInterruptedDelivery(t *testing.T) {
	failing := corpus("master/salt.state.apply.mixed.json.out")
	for _, c := range []struct {
		sig      syscall.Signal
		exit     int
		spooled  int
		recorded bool
	}{
		{syscall.SIGTERM, 128 + 15, 1, true},
		{syscall.SIGHUP, 128 + 1, 1, true},
		{syscall.SIGKILL, -1, 0, false},
	} {
		t.Run(c.sig.String(), func(t *testing.T) {
			port, reached := stallingServer(t)
			root, state, spool := t.TempDir(), t.TempDir(), t.TempDir()
			p := startSaltmail(t, root, failing, "--config", "/dev/null", "--to", "ops@example.com", "--state-dir", state, "--spool-dir", spool,
				"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(port), "--smtp-tls", "none", "--smtp-timeout", "30s")
			if got := signalAtMail(t, p, reached, c.sig); got != c.exit {
				t.Errorf("exit %d, want %d", got, c.exit)
			}
			msgs, _ := filepath.Glob(filepath.Join(spool, "*.eml"))
			if len(msgs) != c.spooled {
				t.Errorf("spooled %d messages, want %d", len(msgs), c.spooled)
			}
			if got := len(memories(t, state)) > 0; got != c.recorded {
				t.Errorf("recorded as mailed: %v, want %v (%v)", got, c.recorded, memories(t, state))
			}
			if c.recorded {
				return
			}
			// Nothing was recorded: the next run, with a server that
			// answers, mails the same failures again.
			s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
			f, _, errb := fixedFactory(t, "")
			args := append([]string{"--to", "ops@example.com", failing}, append(transportArgs(t, s), "--spool-dir", spool, "--state-dir", state)...)
			if code := Main(f, args); code != 0 || len(s.Messages()) != 1 {
				t.Fatalf("exit %d, %d mails: %s", code, len(s.Messages()), errb)
			}
			if d := s.Messages()[0].Data; strings.Contains(string(d), "already reported") {
				t.Errorf("the lost alert counts as reported:\n%.300s", d)
			}
		})
	}
}

// saltmail run stopped while its command runs (a cron time-out, systemd)
// stops the command too, and mails what it printed, saying so.
func TestRunStoppedWhileCommandRuns(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	root, pidFile := t.TempDir(), filepath.Join(t.TempDir(), "pid")
	script := "echo $$ > " + pidFile + "; cat " + corpus("master/salt.state.apply.mixed.json.out") + "; exec sleep 30"
	args := append([]string{"run", "--config", "/dev/null", "--to", "ops@example.com", "--timeout", "1h"}, transportArgs(t, s)...)
	args = append(args, "--spool-dir", t.TempDir(), "--state-dir", t.TempDir(), "--", "sh", "-c", script)
	p := startSaltmail(t, root, "/dev/null", args...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			p.Process.Kill()
			t.Fatal("the command never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // its output read
	_ = p.Process.Signal(syscall.SIGTERM)
	_ = p.Wait()
	if code := p.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid > 0 && syscall.Kill(pid, 0) == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Error("the command runs on after saltmail was stopped")
	}
	msgs := s.Messages()
	if len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("3 minions: 1 failed")) || !bytes.Contains(msgs[0].Data, []byte("SIGTERM")) && !bytes.Contains(msgs[0].Data, []byte("terminated")) {
		t.Errorf("%d mails; want the report of what it printed, saying it was stopped", len(msgs))
	}
}

// A run stopped while it waits for the state dir's locks (another run
// holds them through a slow delivery) spools what it read.
func TestStoppedWaitingForLocks(t *testing.T) {
	port, reached := stallingServer(t)
	failing := corpus("master/salt.state.apply.mixed.json.out")
	state := t.TempDir()
	args := func(spool string) []string {
		return []string{"--config", "/dev/null", "--to", "ops@example.com", "--state-dir", state, "--spool-dir", spool,
			"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(port), "--smtp-tls", "none", "--smtp-timeout", "30s"}
	}
	a := startSaltmail(t, t.TempDir(), failing, args(t.TempDir())...)
	defer func() { _ = a.Process.Kill(); _ = a.Wait() }()
	select {
	case <-reached: // a holds the locks, delivering
	case <-time.After(20 * time.Second):
		t.Fatal("the first run never reached the server")
	}
	spoolB := t.TempDir()
	b := startSaltmail(t, t.TempDir(), failing, args(spoolB)...)
	time.Sleep(500 * time.Millisecond) // b waits for the locks
	_ = b.Process.Signal(syscall.SIGTERM)
	_ = b.Wait()
	if code := b.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	if kept, _ := filepath.Glob(filepath.Join(spoolB, "*.eml")); len(kept) != 1 {
		t.Errorf("spooled %d mails, want the one the stopped run read", len(kept))
	}
}
