package filter

import (
	"strings"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
	"github.com/tidwall/gjson"
)

// What a job says besides a map of states: a bare state entry
// (state.low), its arguments (test=True, state.low's function), the
// minions list_job names without a return, and the events of the bus
// that are no returns.

// isStateEntry: a return that is itself one state's result, with the
// fields Salt requires of every state (salt/state.py): name, changes,
// result and comment. state.low returns that.
func isStateEntry(ret jsonstream.Value) bool {
	var f [4]jsonstream.Value
	ret.Find([]string{"result", "changes", "comment", "name"}, f[:])
	return f[0].Kind() != jsonstream.Invalid && f[1].Kind() != jsonstream.Invalid &&
		f[2].Kind() != jsonstream.Invalid && f[3].Kind() != jsonstream.Invalid
}

// lowKey makes the state key Salt would have given a state.low entry:
// <state>_|-<__id__>_|-<name>_|-<fun>. The entry names neither state nor
// function; an event's fun_args do (low), else it is "state.low".
func lowKey(entry jsonstream.Value, low [2]string) []byte {
	var f [2]jsonstream.Value
	entry.Find([]string{"__id__", "name"}, f[:])
	name := text(parse(f[1]))
	id := name
	if f[0].Kind() == jsonstream.String {
		id = parse(f[0]).Str
	}
	mod, fun := low[0], low[1]
	if mod == "" || fun == "" {
		mod, fun = "state", "low"
	}
	return []byte(mod + sep + id + sep + name + sep + fun)
}

// lowOf reads the state module and function of a state.low job from its
// arguments: [{"state": "cmd", "fun": "run", ...}].
func lowOf(fun string, args gjson.Result) [2]string {
	if fun != "state.low" {
		return [2]string{}
	}
	low := args.Get("0")
	return [2]string{low.Get("state").String(), low.Get("fun").String()}
}

// missing reports the minions a jobs.list_job names as targeted but
// whose return the job cache does not hold: they did not return (or not
// yet, when the job still runs).
func (j *judge) missing(minions, result gjson.Result, jid, fun string) {
	if !j.funs[fun] {
		return
	}
	for _, id := range minions.Array() {
		if id.Type != gjson.String || result.Get(gjson.Escape(id.Str)).Exists() {
			continue
		}
		j.v.add(Minion{ID: id.Str, JID: jid, Fun: fun, ErrorKind: NoReturn, Error: "Minion did not return: the job cache holds no return of it"})
	}
}

// isTestRun: the job's arguments ask for a test run, as test=True on
// the command line or {"test": true} among keyword arguments.
func isTestRun(args gjson.Result) bool {
	test := false
	args.ForEach(func(_, a gjson.Result) bool {
		switch {
		case a.Type == gjson.String:
			k, v, ok := strings.Cut(a.Str, "=")
			test = ok && k == "test" && strings.EqualFold(v, "true")
		case a.IsObject():
			t := a.Get("test")
			test = t.Type == gjson.True || strings.EqualFold(t.Str, "true")
		}
		return !test
	})
	return test
}

// isBusEvent: a document the master's event bus carries that is no
// minion map: it is stamped, names the job's function beside its jid,
// or is a minion's event with its tag.
func isBusEvent(get func(string) (jsonstream.Value, bool), hasFun bool) bool {
	_, stamped := get("_stamp")
	_, hasJID := get("jid")
	_, hasCmd := get("cmd")
	_, hasTag := get("tag")
	return stamped || (hasFun && hasJID) || (hasCmd && hasTag)
}

func busEventKind(get func(string) (jsonstream.Value, bool)) string {
	tag, _ := get("tag")
	_, minions := get("minions")
	_, state := get("state")
	_, driver := get("driver")
	_, ret := get("ret")
	switch {
	case strings.Contains(parse(tag).String(), "/start/"):
		return "a minion's start event"
	case state && driver:
		return "a batch's progress"
	case minions:
		return "a new job"
	case ret:
		return "the job's publication"
	}
	return "no return in it"
}

// busEventJID is the event's job: its jid, or its data's (a minion's
// event).
func busEventJID(get func(string) (jsonstream.Value, bool)) string {
	if jid, ok := get("jid"); ok {
		return parse(jid).String()
	}
	data, _ := get("data")
	return parse(data).Get("jid").String()
}

// sshError reads salt-ssh's return for a target where the function could
// not run: {"_error": "The command resulted in a non-zero exit code",
// "stderr": "Traceback ...", "stdout", "retcode", "parsed": null}; on
// 3006, for a failed pre-flight, only {"stdout", "stderr", "retcode"}
// (no pid: a cmd.run_all's map has one, and is no error). Its error is
// _error (or the exit status) and the tail of stderr.
func sshError(ret jsonstream.Value) (string, bool) {
	var f [4]jsonstream.Value
	ret.Find([]string{"_error", "stderr", "retcode", "pid"}, f[:])
	var e string
	switch {
	case f[0].Kind() == jsonstream.String:
		e = parse(f[0]).Str
	case f[1].Kind() == jsonstream.String && f[2].Kind() == jsonstream.Number && f[3].Kind() == jsonstream.Invalid && string(f[2].Raw) != "0":
		e = "salt-ssh: the function did not run (retcode " + string(f[2].Raw) + ")"
	default:
		return "", false
	}
	lines := strings.Split(strings.TrimRight(parse(f[1]).Str, "\n"), "\n")
	if tail := strings.Join(lines[max(len(lines)-8, 0):], "\n"); tail != "" {
		e += "\n" + tail
	}
	return e, true
}
