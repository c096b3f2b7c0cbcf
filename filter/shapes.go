package filter

import (
	"bytes"
	"slices"
	"sort"
	"strings"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
	"github.com/tidwall/gjson"
)

// document evaluates a whole held document by its shape.
func (j *judge) document(ms []jsonstream.Member) {
	get := func(k string) (jsonstream.Value, bool) {
		for _, m := range ms {
			if string(m.Key) == k {
				return m.Value, true
			}
		}
		return jsonstream.Value{}, false
	}
	data, hasData := get("data")
	_, hasOut := get("outputter")
	fun, hasFun := get("fun")
	ret, hasRet := get("return")
	res, hasRes := get("Result")
	function, hasFunction := get("Function")
	switch {
	case hasData && hasOut && data.Kind() == jsonstream.Object:
		rc, _ := get("retcode")
		j.orchestration(data, "", parse(rc))
	case hasFun && hasRet:
		id, _ := get("id")
		jid, _ := get("jid")
		rc, _ := get("retcode")
		ok, _ := get("success")
		args, _ := get("fun_args")
		j.low, j.test = lowOf(parse(fun).String(), parse(args)), isTestRun(parse(args))
		j.event(parse(id).String(), parse(jid).String(), parse(fun).String(), ret, parse(rc), parse(ok))
		j.low, j.test = [2]string{}, false
	case hasRet && len(ms) == 1 && ret.Kind() == jsonstream.Array:
		// salt-api / pepper: {"return": [ {minion map}, ... ]}
		for _, d := range parse(ret).Array() {
			if d.IsObject() {
				j.document(membersOf(d))
			}
		}
	case hasRes && hasFunction && res.Kind() == jsonstream.Object:
		// salt-run jobs.list_job: {"jid", "Function", "Result": {id: {"return", "retcode", "success"}}}
		jid, _ := get("jid")
		args, _ := get("Arguments")
		j.low, j.test = lowOf(parse(function).String(), parse(args)), isTestRun(parse(args))
		result := parse(res)
		result.ForEach(func(k, v gjson.Result) bool {
			j.event(k.String(), parse(jid).String(), parse(function).String(), value(v.Get("return")), v.Get("retcode"), v.Get("success"))
			return true
		})
		j.low, j.test = [2]string{}, false
		minions, _ := get("Minions")
		j.missing(parse(minions), result, parse(jid).String(), parse(function).String())
	case !hasRet && isBusEvent(get, hasFun):
		// Piped from the bus: the job's announcement, a minion's start
		// event (3008 --start-event), a batch's progress (3008: its
		// returns come as job returns too). None is a return.
		j.v.note("job ", busEventJID(get), ": an event that is not a return (", busEventKind(get), "), ignored")
	default:
		jid := ""
		for _, m := range ms {
			j.mapMember(m.Key, m.Value, &jid)
		}
	}
}

// parse reads a value through gjson, which copies it: for the rare
// paths (envelopes, errors), never per state.
func parse(v jsonstream.Value) gjson.Result { return gjson.ParseBytes(v.Raw) }

// value is the JSON of a gjson result, or no value when it has none.
func value(r gjson.Result) jsonstream.Value {
	if !r.Exists() {
		return jsonstream.Value{}
	}
	return jsonstream.Value{Raw: []byte(r.Raw)}
}

// member returns the value of v's first member named key, or no value.
func member(v jsonstream.Value, key string) jsonstream.Value {
	var found [1]jsonstream.Value
	v.Find([]string{key}, found[:])
	return found[0]
}

func membersOf(d gjson.Result) []jsonstream.Member {
	var ms []jsonstream.Member
	d.ForEach(func(k, v gjson.Result) bool {
		ms = append(ms, jsonstream.Member{Key: []byte(k.String()), Value: value(v)})
		return true
	})
	return ms
}

// mapMember evaluates one member of a minion map. Batch mode (-b) puts
// "retcode" and "jid" beside the minion ids: they are the job's, not
// minions.
func (j *judge) mapMember(key []byte, v jsonstream.Value, jid *string) {
	if string(key) == "retcode" && v.Kind() == jsonstream.Number {
		return
	}
	if string(key) == "jid" && isJID(v) {
		*jid = parse(v).Str
		return
	}
	if m, ok := j.minion(string(key), v, false); ok {
		m.JID = *jid
		j.v.add(m)
	}
}

// isJID: a JSON string of Salt's 20-digit job id.
func isJID(v jsonstream.Value) bool {
	if v.Kind() != jsonstream.String {
		return false
	}
	s := parse(v).Str
	if len(s) < 14 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// event evaluates a job return envelope: a reactor event's data, a
// returner's record, one entry of jobs.list_job.
func (j *judge) event(id, jid, fun string, ret jsonstream.Value, retcode, success gjson.Result) {
	if !j.funs[fun] {
		j.v.note("minion ", id, ": ", fun, " is not a state function, ignored")
		return
	}
	if member(ret, "outputter").Kind() != jsonstream.Invalid {
		if data := member(ret, "data"); data.Kind() == jsonstream.Object {
			j.orchestration(data, jid, retcode)
			return
		}
	}
	m, ok := j.minion(id, ret, false)
	if !ok {
		m = Minion{ID: id}
	}
	m.JID, m.Fun, m.Test = jid, fun, j.test
	jobFailed(&m, retcode, success)
	if ok || m.ErrorKind != NoError {
		j.v.add(m)
	}
}

// jobFailed marks a minion in error when its job says it failed but no
// state of it did.
func jobFailed(m *Minion, retcode, success gjson.Result) {
	if m.Failed > 0 || m.ErrorKind != NoError {
		return
	}
	var why []string
	if retcode.Exists() && retcode.Type == gjson.Number && retcode.Int() != 0 {
		why = append(why, "retcode "+retcode.Raw)
	}
	if success.Type == gjson.False {
		why = append(why, "success false")
	}
	if len(why) > 0 {
		m.ErrorKind = JobError
		m.Error = "The job failed (" + strings.Join(why, ", ") + ") but no state failed"
	}
}

// minion evaluates one minion's return. ok is false when the return is
// not a state return at all (test.ping's true, a plain map, null): that
// is not news, and is only noted. In orchestration a minion that did not
// answer is `false`.
func (j *judge) minion(id string, ret jsonstream.Value, inOrch bool) (m Minion, ok bool) {
	m.ID = id
	switch ret.Kind() {
	case jsonstream.String:
		m.Error = parse(ret).Str
		m.ErrorKind = ReturnError
		if strings.Contains(m.Error, "did not return") {
			m.ErrorKind = NoReturn
		}
		return m, true
	case jsonstream.False:
		if inOrch {
			m.Error = "Minion did not return"
			m.ErrorKind = NoReturn
			return m, true
		}
	case jsonstream.Array:
		if lines, ok := errorLines(ret); ok {
			m.Error = strings.Join(lines, "\n")
			m.ErrorList = lines
			m.ErrorKind = ReturnError
			return m, true
		}
	case jsonstream.Object:
		j.succeeded = j.succeeded[:0]
		ret.Each(func(k []byte, v jsonstream.Value) bool {
			if v.Kind() == jsonstream.Object && bytes.Contains(k, sepBytes) {
				ok = true
				j.state(&m, k, v)
			}
			return true
		})
		if !ok && isStateEntry(ret) {
			// state.low returns one state entry, not a map of them.
			ok = true
			j.state(&m, lowKey(ret, j.low), ret)
		}
		if e, failed := sshError(ret); !ok && failed {
			m.Error, m.ErrorKind = e, ReturnError
			return m, true
		}
		m.RunTimeMS += m.parallelMS
		if len(j.succeeded) > 0 {
			m.succeeded = slices.Clone(j.succeeded) // sized once: no garbage per state
		}
		if ok {
			sort.SliceStable(m.States, func(i, j int) bool { return m.States[i].RunNum < m.States[j].RunNum })
			return m, true
		}
	}
	j.v.note("minion ", id, ": not a state return, ignored")
	return m, false
}

// errorLines reads a return that is a list: with any string in it, it
// is a list of errors (render errors, conflicting IDs).
func errorLines(ret jsonstream.Value) (lines []string, ok bool) {
	parse(ret).ForEach(func(_, v gjson.Result) bool {
		ok = ok || v.Type == gjson.String
		lines = append(lines, text(v))
		return true
	})
	return lines, ok
}
