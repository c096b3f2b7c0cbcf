package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Runner runs the short Salt commands the watch needs besides the bus
// (salt-key, salt-run jobs.*): each in its own process group, so a
// time-out ends the whole of it (salt-run forks), with the environment
// given (no SMTP password), and its output bounded.
type Runner struct {
	Env     []string
	Timeout time.Duration
	// MaxOutput bounds what a command may print (a lookup of a big
	// highstate on many minions is large, but not without end).
	MaxOutput int64
}

// Output runs argv and returns its stdout; a failure says the command
// and the end of its stderr. A command that exits non-zero returns what
// it printed too (salt exits 2 when no minion answered, and prints {}).
func (r Runner) Output(ctx context.Context, argv []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = r.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr tail
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", argv[0], err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", argv[0], err)
	}
	b, rerr := io.ReadAll(io.LimitReader(out, r.MaxOutput+1))
	if int64(len(b)) > r.MaxOutput {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		rerr = fmt.Errorf("printed more than %d bytes", r.MaxOutput)
	}
	werr := cmd.Wait()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("%q: no answer within %v", strings.Join(argv, " "), r.Timeout)
	case rerr != nil:
		return nil, fmt.Errorf("%q: %w", strings.Join(argv, " "), rerr)
	case werr != nil:
		return b, fmt.Errorf("%q: %w: %s", strings.Join(argv, " "), werr, bytes.TrimSpace(stderr.b))
	}
	return b, nil
}

// tail keeps the last KiB written to it: enough of a traceback to say
// why.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 1024 {
		t.b = t.b[len(t.b)-1024:]
	}
	return len(p), nil
}

// Reconciler asks the job cache what a restart may have lost. Run is
// the salt-run command (with -c CONF when the event command had one).
type Reconciler struct {
	Run    []string
	Runner Runner
	Loc    *time.Location // the zone of the master's jids
	Log    func(string)
}

// log says s, if the caller listens.
func (r *Reconciler) log(s string) {
	if r.Log != nil {
		r.Log(s)
	}
}

// maxLateLookups bounds the digested jobs looked up again for minions
// their digest named as not returned (the newest first): a minion down
// for a day leaves one such job per run.
const maxLateLookups = 50

// Jobs lists the state jobs started since from (and not in k.Done),
// and looks each up; then the digested jobs whose digest named minions
// that have not returned since (k.Missing), newest first: their returns
// may have come while no watch listened. A job whose lookup fails is
// said and skipped: the others still count.
func (r *Reconciler) Jobs(ctx context.Context, from time.Time, k Known, found func(Found)) error {
	found = r.withRelays(ctx, found)
	if err := r.listed(ctx, from, k, found); err != nil {
		return err
	}
	jids := make([]string, 0, len(k.Missing))
	for jid := range k.Missing {
		jids = append(jids, jid)
	}
	slices.Sort(jids)
	slices.Reverse(jids)
	for i, jid := range jids {
		if i == maxLateLookups {
			r.log(fmt.Sprintf("%d more digested jobs with minions that did not return are not looked up again", len(jids)-i))
			break
		}
		if ctx.Err() != nil {
			break
		}
		r.lookup(ctx, ListedJob{JID: jid}, found)
	}
	return ctx.Err()
}

// lookup asks the job cache for one job's returns.
func (r *Reconciler) lookup(ctx context.Context, j ListedJob, found func(Found)) {
	f, err := r.Lookup(ctx, j)
	if err != nil {
		r.log(err.Error())
		return
	}
	found(f)
}

// Lookup asks the job cache for one job's returns (jobs.lookup_jid
// missing=True).
func (r *Reconciler) Lookup(ctx context.Context, j ListedJob) (Found, error) {
	look, err := r.Runner.Output(ctx, append(r.Run[:len(r.Run):len(r.Run)], "jobs.lookup_jid", j.JID, "missing=True", "--out=json"))
	if err != nil {
		return Found{}, err
	}
	started, _ := JIDTime(j.JID, r.Loc)
	return Found{Job: j, Lookup: look, Started: started}, nil
}

// listed reconciles the state jobs the cache lists since from.
func (r *Reconciler) listed(ctx context.Context, from time.Time, k Known, found func(Found)) error {
	start := from.In(r.Loc).Format("2006-01-02 15:04:05")
	out, err := r.Runner.Output(ctx, append(r.Run[:len(r.Run):len(r.Run)], "jobs.list_jobs", "search_function=state.*", "start_time="+start, "--out=json"))
	if err != nil {
		return err
	}
	jobs, err := ParseListJobs(out)
	if err != nil {
		return err
	}
	// dateutil may be missing, and Salt then ignores start_time: the
	// jids say it again.
	fromJID := from.In(r.Loc).Format("20060102150405")
	for _, j := range jobs {
		// a digested job with minions missing is looked up after these
		if j.JID < fromJID || k.Done[j.JID] || ctx.Err() != nil {
			continue
		}
		r.lookup(ctx, j, found)
	}
	return ctx.Err()
}

// RunnerCommand is the salt-run to ask the job cache with: the event
// command's own when it is salt-run (with its -c/--config-dir, so it
// reads the same master), else fallback.
func RunnerCommand(event, fallback []string) []string {
	if len(event) == 0 || !strings.HasSuffix(event[0], "salt-run") {
		return fallback
	}
	run := []string{event[0]}
	for i := 1; i < len(event); i++ {
		a := event[i]
		switch {
		case (a == "-c" || a == "--config-dir") && i+1 < len(event):
			run = append(run, a, event[i+1])
			i++
		case strings.HasPrefix(a, "--config-dir=") || (strings.HasPrefix(a, "-c") && len(a) > 2):
			run = append(run, a)
		}
	}
	return run
}

// ErrNoStart: nothing to reconcile from (a first start with an empty
// journal: the jobs before it are not this watch's to mail).
var ErrNoStart = errors.New("no event seen yet")

// From is the time to reconcile from: a minute before the last event
// seen (jids are minted before their /new fires), or the start of the
// oldest job in flight if it is older.
func From(mark time.Time, k Known, loc *time.Location) (time.Time, error) {
	from := mark
	if !from.IsZero() {
		from = from.Add(-time.Minute)
	}
	if t, ok := JIDTime(k.Oldest, loc); ok && (from.IsZero() || t.Before(from)) {
		from = t
	}
	if from.IsZero() {
		return from, ErrNoStart
	}
	return from, nil
}
