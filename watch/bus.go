package watch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Bus runs the command that prints the master's events (salt-run
// state.event ... pretty=False) and hands on its lines. The runner
// reconnects by itself across master restarts, but it can exit: Bus
// starts it again, waiting longer each time it failed fast (1 s, doubling
// to a minute), and says so through Started, after which the caller
// may reconcile what it missed.
type Bus struct {
	Command []string
	Env     []string
	// Log hears what happens to the command (exits, restarts).
	Log func(string)
	// Started hears each (re)start, before its lines.
	Started func(n int)
	// Sleep waits; nil means a timer that ctx cancels.
	Sleep func(context.Context, time.Duration)
}

// maxLine bounds one event line: Salt's own max_event_size is 1 MiB by
// default; a master that raised it may send more.
const maxLine = 64 << 20

// Run reads lines until ctx ends, calling line for each, in order.
func (b *Bus) Run(ctx context.Context, line func([]byte)) error {
	sleep := b.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
	}
	wait := time.Second
	for n := 1; ctx.Err() == nil; n++ {
		start := time.Now()
		err := b.once(ctx, n, line)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			wait = time.Second // it ran a while: not a crash loop
		}
		b.Log(fmt.Sprintf("event command %q ended (%v); starting it again in %v", strings.Join(b.Command, " "), err, wait))
		sleep(ctx, wait)
		wait = min(2*wait, time.Minute)
	}
	return nil
}

// once runs the command one time, to its end or ctx's.
func (b *Bus) once(ctx context.Context, n int, line func([]byte)) error {
	cmd := exec.Command(b.Command[0], b.Command[1:]...)
	cmd.Env = b.Env
	// Its own group (a stop reaches all it started); and should watch be
	// killed outright, SIGTERM for it: salt-run state.event swallows the
	// broken pipe and would print to no one for ever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) })
	defer stop()
	if b.Started != nil {
		b.Started(n)
	}
	r := bufio.NewReaderSize(out, 64<<10)
	var long []byte
	skipping := false // a line too long to be an event: dropped whole
	for {
		chunk, err := r.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			if !skipping && len(long)+len(chunk) <= maxLine {
				long = append(long, chunk...)
			} else {
				skipping, long = true, nil
			}
			continue
		case skipping:
			skipping = false
		case len(long) > 0:
			line(append(long, chunk...))
			long = nil
		case len(chunk) > 0:
			line(chunk)
		}
		if err != nil {
			if err != io.EOF {
				_ = cmd.Process.Kill()
			}
			break
		}
	}
	return cmd.Wait()
}
