package cmd

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/saltmail/saltmail/filter"
)

// pipeGrace is how long the command's pipes may stay open once it has
// exited: a process it started and left (a daemon, setsid) may hold
// them for ever, and its output is complete already.
var pipeGrace = 2 * time.Second

// child is what `saltmail run` learned of its command.
type child struct {
	v       *filter.Verdict
	status  string // "exit status 2", "killed after 2h0m0s", ""
	code    int    // its exit status: 124 time-out, 127 could not start
	stderr  string // the tail of its stderr
	readErr error
	// signal stopped saltmail while the command ran (a cron time-out,
	// systemd): the command was stopped too, and what it printed is
	// mailed before saltmail exits.
	signal os.Signal
}

// runChild runs command in a process group of its own (a time-out kills
// its children too), with env, reading its stdout as Salt output as it
// comes and keeping the tail of its stderr.
func runChild(command []string, timeout time.Duration, in filter.Options, b64 bool, env []string) child {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.Command(command[0], command[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = env
	outR, outW, err := os.Pipe()
	if err != nil {
		return child{v: &filter.Verdict{}, status: "could not start: " + err.Error(), code: 127}
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return child{v: &filter.Verdict{}, status: "could not start: " + err.Error(), code: 127}
	}
	defer outR.Close()
	defer errR.Close()
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close() // the command holds them now
	errW.Close()
	if err != nil {
		return child{v: &filter.Verdict{}, status: "could not start: " + err.Error(), code: 127}
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop()
	var stoppedBy atomic.Value // the os.Signal that stopped saltmail
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	grace := pipeGrace // read once: the goroutine below may outlive this call
	exited, done := make(chan struct{}), make(chan struct{})
	defer close(done)
	var werr error
	go func() {
		werr = cmd.Wait() // *os.File pipes: returns when the process exits
		close(exited)
	}()
	go func() {
		// Stopped: stop the command's group too (it would run on, its
		// output going nowhere), then mail what it printed.
		select {
		case sig := <-sigs:
			stoppedBy.Store(sig.(syscall.Signal)) // Notify hands only syscall.Signal
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(grace):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		case <-exited:
		}
	}()
	go func() {
		<-exited
		select {
		case <-time.After(grace):
			now := time.Now()
			_ = outR.SetReadDeadline(now)
			_ = errR.SetReadDeadline(now)
		case <-done:
		}
	}()
	tail := &tail{n: tailBytes}
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		_, _ = io.Copy(tail, untilDeadline{errR})
	}()
	e := filter.NewEvaluator(in)
	var src io.Reader = untilDeadline{outR}
	if b64 {
		src = base64.NewDecoder(base64.StdEncoding, src)
	}
	c := child{}
	c.readErr = e.Read(src, command[0])
	_, _ = io.Copy(io.Discard, untilDeadline{outR}) // a reader that stopped early must not block the command
	<-exited
	copied.Wait()
	c.v, c.stderr = e.Verdict(), tail.String()
	c.status, c.code = exitOf(ctx, werr, timeout)
	if sig, ok := stoppedBy.Load().(syscall.Signal); ok {
		c.signal, c.status, c.code = sig, "stopped because saltmail got "+sig.String(), 128+int(sig)
	}
	return c
}

// exitOf names how the command ended.
func exitOf(ctx context.Context, werr error, timeout time.Duration) (string, int) {
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return "killed after " + timeout.String(), 124
	case errors.As(werr, &ee):
		if ee.ExitCode() < 0 {
			return ee.String(), 1 // killed by a signal
		}
		return ee.String(), ee.ExitCode()
	case werr != nil:
		return werr.Error(), 1
	}
	return "", 0
}

// untilDeadline ends a pipe at its read deadline, as at its end: the
// command exited and what it printed is all read.
type untilDeadline struct{ f *os.File }

func (u untilDeadline) Read(p []byte) (int, error) {
	n, err := u.f.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = io.EOF
	}
	return n, err
}

// childEnv is saltmail's environment without its secrets: a command
// that prints its environment (or a sendmail that logs it) must not
// mail the SMTP password.
func childEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "SALTMAIL_SMTP_PASSWORD=") {
			out = append(out, kv)
		}
	}
	return out
}
