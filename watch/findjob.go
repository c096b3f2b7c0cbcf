package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// At a job's job_timeout, the minions that have not returned may be
// asked `saltutil.find_job <jid>`, as the salt CLI asks them, to tell a
// minion still running the job from one that is up but not running it
// (it never received it, or the job ended without a return) and from
// one that gave no answer (down, or not connected). The Tracker stays
// pure: with Options.FindJobWait set, Due holds such a job back and
// lists it in Asks; the caller runs the command and hands the answers
// to Answer, which makes the digest. A job whose answers have not come
// FindJobWait after its job_timeout is digested without them.

// FindJob is what saltutil.find_job said of a minion.
type FindJob int

const (
	NoAnswer     FindJob = iota // no answer: down, or not connected
	NotRunning                  // it answered {}: not running the job
	StillRunning                // it answered the job's data: running it
)

// Ask is a job past its job_timeout, and the minions to ask about it.
type Ask struct {
	JID     string
	Minions []string
	Until   time.Time // when the job is digested without the answers
}

// hold keeps a job that reached its job_timeout with minions missing
// in flight, once, to ask them: it returns whether it did.
func (t *Tracker) hold(j *job, now time.Time) bool {
	if t.o.FindJobWait <= 0 || j.missing == 0 || j.answers != nil {
		return false
	}
	var pending []string
	for _, m := range j.expected {
		if _, ok := j.returned[m]; !ok {
			pending = append(pending, m)
		}
	}
	j.answers = map[string]FindJob{}
	j.timeout = now.Add(t.o.FindJobWait)
	j.deadline = j.timeout
	t.asks = append(t.asks, Ask{JID: j.jid, Minions: pending, Until: j.timeout})
	return true
}

// Asks hands over the jobs Due held back since the last call, still in
// flight: their minions are to be asked, and the answers given to
// Answer.
func (t *Tracker) Asks() []Ask {
	var out []Ask
	for _, a := range t.asks {
		if t.jobs[a.JID] != nil {
			out = append(out, a)
		}
	}
	t.asks = nil
	return out
}

// Answer digests a job held to ask its minions, with what they said;
// nil answers (the command failed) digest it as if none were asked. A
// job digested meanwhile (every minion returned, or the wait passed)
// is left alone.
func (t *Tracker) Answer(jid string, answers map[string]FindJob, now time.Time) []Digest {
	j := t.jobs[jid]
	if j == nil || j.answers == nil {
		return nil
	}
	for m, a := range answers {
		if j.want[m] {
			j.answers[m] = a
		}
	}
	return []Digest{t.finish(j, now)}
}

// noReturn is the error of a minion that did not return: "did not
// return" in each wording, which filter counts as such.
func (t *Tracker) noReturn(j *job, m string) string {
	within := "job_timeout " + t.o.JobTimeout.String()
	a, asked := j.answers[m]
	switch {
	case asked && a == StillRunning:
		return "Minion did not return. [Still running at " + within + ": saltutil.find_job found the job]"
	case asked && a == NotRunning && j.started[m]:
		return "Minion did not return. [It accepted the job, and was no longer running it at " + within + " (saltutil.find_job): it ended without a return]"
	case asked && a == NotRunning:
		return "Minion did not return. [No response within " + within + "] [Up, but not running the job (saltutil.find_job): it never received it, or it ended without a return]"
	case asked:
		return "Minion did not return. [No response within " + within + "] [No answer to saltutil.find_job either: down or not connected]"
	case j.started[m]:
		return "Minion did not return. [It accepted the job and was still running at " + within + "]"
	}
	return "Minion did not return. [No response within " + within + "]"
}

// ParseFindJob reads what `salt --out=json --static -L <asked>
// saltutil.find_job <jid>` printed: a map of the minions that answered,
// each to the job's data while it runs the job, or to {} (Salt 3006 to
// 3008; a minion that gave no answer is not in it, and when none
// answered the map is empty, with exit status 2). Several maps, as
// without --static, are read as one. Output that is no such map (no
// minion matched the target, the master is down) is an error: nothing
// is known.
func ParseFindJob(out []byte, asked []string) (map[string]FindJob, error) {
	got := map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for ; ; n++ {
		var m map[string]json.RawMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || m == nil {
			return nil, fmt.Errorf("saltutil.find_job: not a map of minions (%.120q)", out)
		}
		for k, v := range m {
			got[k] = v
		}
	}
	if n == 0 {
		return nil, errors.New("saltutil.find_job: no output")
	}
	answers := make(map[string]FindJob, len(asked))
	for _, m := range asked {
		answers[m] = answer(got[m])
	}
	return answers, nil
}

// answer reads one minion's answer: its job's data, {}, or none (not
// there, or a string such as "Minion did not return").
func answer(v json.RawMessage) FindJob {
	var job map[string]json.RawMessage
	if v == nil || json.Unmarshal(v, &job) != nil || job == nil {
		return NoAnswer
	}
	if len(job) == 0 {
		return NotRunning
	}
	return StillRunning
}

// FindJobCommand is the salt that asks, as the setting says; but a
// bare "salt" is the one beside the event command's salt-run, with its
// -c/--config-dir unless the setting has its own, so that it asks the
// same master.
func FindJobCommand(event, setting []string) []string {
	run := RunnerCommand(event, nil)
	if len(setting) == 0 || setting[0] != "salt" || run == nil {
		return setting
	}
	salt := []string{strings.TrimSuffix(run[0], "-run")}
	if !slices.ContainsFunc(setting, isConfigDir) {
		salt = append(salt, run[1:]...)
	}
	return append(salt, setting[1:]...)
}

func isConfigDir(a string) bool {
	return strings.HasPrefix(a, "-c") || strings.HasPrefix(a, "--config-dir")
}
