package cmd

import (
	"bufio"
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
			select {
			case <-reached:
			case <-time.After(20 * time.Second):
				p.Process.Kill()
				t.Fatal("saltmail never reached MAIL FROM")
			}
			_ = p.Process.Signal(c.sig)
			_ = p.Wait()
			if got := p.ProcessState.ExitCode(); got != c.exit {
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
