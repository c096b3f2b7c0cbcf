package filter

import (
	"sort"
	"strings"

	"github.com/tidwall/gjson"
)

// document evaluates a whole buffered document by its shape.
func (e *Evaluator) document(ms []member) {
	get := func(k string) (gjson.Result, bool) {
		for _, m := range ms {
			if m.key == k {
				return gjson.Parse(bstr(m.value)), true
			}
		}
		return gjson.Result{}, false
	}
	data, hasData := get("data")
	_, hasOut := get("outputter")
	fun, hasFun := get("fun")
	ret, hasRet := get("return")
	res, hasRes := get("Result")
	function, hasFunction := get("Function")
	switch {
	case hasData && hasOut && data.IsObject():
		rc, _ := get("retcode")
		e.orchestration(data, "", rc)
	case hasFun && hasRet:
		id, _ := get("id")
		jid, _ := get("jid")
		rc, _ := get("retcode")
		ok, _ := get("success")
		e.event(id.String(), jid.String(), fun.String(), ret, rc, ok)
	case hasRet && len(ms) == 1 && ret.IsArray():
		// salt-api / pepper: {"return": [ {minion map}, ... ]}
		for _, d := range ret.Array() {
			if d.IsObject() {
				e.document(membersOf(d))
			}
		}
	case hasRes && hasFunction && res.IsObject():
		// salt-run jobs.list_job: {"jid", "Function", "Result": {id: {"return", "retcode", "success"}}}
		jid, _ := get("jid")
		res.ForEach(func(k, v gjson.Result) bool {
			e.event(k.String(), jid.String(), function.String(), v.Get("return"), v.Get("retcode"), v.Get("success"))
			return true
		})
	default:
		jid := ""
		for _, m := range ms {
			e.mapMember(m.key, bstr(m.value), m.spans, m.fields, &jid)
		}
	}
}

func membersOf(d gjson.Result) []member {
	var ms []member
	d.ForEach(func(k, v gjson.Result) bool {
		ms = append(ms, member{key: k.String(), value: []byte(v.Raw)})
		return true
	})
	return ms
}

// mapMember evaluates one member of a minion map. Batch mode (-b) puts
// "retcode" and "jid" beside the minion ids: they are the job's, not
// minions.
func (e *Evaluator) mapMember(key, value string, spans, fields []Span, jid *string) {
	if key == "retcode" && gjson.Parse(value).Type == gjson.Number {
		return
	}
	if key == "jid" && isJID(value) {
		*jid = strings.Clone(gjson.Parse(value).Str)
		return
	}
	if m, ok := e.minionSpans(key, value, spans, fields, false); ok {
		m.JID = *jid
		e.v.add(m)
	}
}

// isJID: a JSON string of Salt's 20-digit job id.
func isJID(raw string) bool {
	r := gjson.Parse(raw)
	if r.Type != gjson.String || len(r.Str) < 14 {
		return false
	}
	for i := 0; i < len(r.Str); i++ {
		if r.Str[i] < '0' || r.Str[i] > '9' {
			return false
		}
	}
	return true
}

// event evaluates a job return envelope: a reactor event's data, a
// returner's record, one entry of jobs.list_job.
func (e *Evaluator) event(id, jid, fun string, ret, retcode, success gjson.Result) {
	if !e.funs[fun] {
		e.v.note("minion ", id, ": ", fun, " is not a state function, ignored")
		return
	}
	if ret.IsObject() && ret.Get("outputter").Exists() && ret.Get("data").IsObject() {
		e.orchestration(ret.Get("data"), jid, retcode)
		return
	}
	m, ok := e.minion(id, ret.Raw, false)
	if !ok {
		m = Minion{ID: strings.Clone(id)}
	}
	// Kept past the input's buffer: copies.
	m.JID, m.Fun = strings.Clone(jid), strings.Clone(fun)
	jobFailed(&m, retcode, success)
	if ok || m.ErrorKind != NoError {
		e.v.add(m)
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

// orchestration evaluates `salt-run state.orchestrate` output: the data
// map holds the master's own steps under its id; a salt.state step
// carries the minions' returns in changes.ret.
func (e *Evaluator) orchestration(data gjson.Result, jid string, retcode gjson.Result) {
	jid = strings.Clone(jid)
	data.ForEach(func(k, v gjson.Result) bool {
		master, ok := e.minion(k.String(), v.Raw, false)
		if !ok {
			return true
		}
		master.JID, master.Fun = jid, "state.orchestrate"
		jobFailed(&master, retcode, gjson.Result{})
		e.v.add(master)
		if !v.IsObject() {
			return true
		}
		v.ForEach(func(sk, step gjson.Result) bool {
			ch := step.Get(e.opts.ChangesPath)
			if !strings.Contains(sk.Str, sep) || ch.Get("out").String() != "highstate" {
				return true
			}
			stepJID := strings.Clone(step.Get("__jid__").String())
			ch.Get("ret").ForEach(func(mk, mv gjson.Result) bool {
				if m, ok := e.minion(mk.String(), mv.Raw, true); ok {
					m.JID, m.Fun = stepJID, "state.orchestrate"
					e.v.add(m)
				}
				return true
			})
			return true
		})
		return true
	})
}

// minion evaluates one minion's return. ok is false when the return is
// not a state return at all (test.ping's true, a plain map, null): that
// is not news, and is only noted. In orchestration a minion that did not
// answer is `false`.
func (e *Evaluator) minion(id, raw string, inOrch bool) (m Minion, ok bool) {
	return e.minionSpans(id, raw, nil, nil, inOrch)
}

// minionSpans is minion with the return's members already located by
// the reader (spans), when it is an object: no second scan to split it.
func (e *Evaluator) minionSpans(id, raw string, spans, fields []Span, inOrch bool) (m Minion, ok bool) {
	m.ID = strings.Clone(id)
	r := gjson.Parse(raw)
	switch {
	case r.Type == gjson.String:
		m.Error = strings.Clone(r.Str)
		m.ErrorKind = ReturnError
		if strings.Contains(r.Str, "did not return") {
			m.ErrorKind = NoReturn
		}
		return m, true
	case r.Type == gjson.False && inOrch:
		m.Error = "Minion did not return"
		m.ErrorKind = NoReturn
		return m, true
	case r.IsArray():
		var lines []string
		strs := false
		r.ForEach(func(_, v gjson.Result) bool {
			strs = strs || v.Type == gjson.String
			lines = append(lines, strings.Clone(text(v)))
			return true
		})
		if !strs {
			break
		}
		m.Error = strings.Join(lines, "\n")
		m.ErrorList = lines
		m.ErrorKind = ReturnError
		return m, true
	case r.IsObject():
		if spans != nil && !e.noSpans {
			for _, sp := range spans {
				v := raw[sp.V0:sp.V1]
				if v[0] != '{' {
					continue
				}
				k := raw[sp.K0:sp.K1]
				if strings.IndexByte(k, '\\') >= 0 {
					k = gjson.Parse(k).Str // an escaped key: decode it
				} else {
					k = k[1 : len(k)-1]
				}
				if !strings.Contains(k, sep) {
					continue
				}
				ok = true
				e.state(&m, k, v, fields[sp.G0:sp.G1], sp.V0)
			}
		} else {
			r.ForEach(func(k, v gjson.Result) bool {
				if !strings.Contains(k.Str, sep) || !v.IsObject() {
					return true
				}
				ok = true
				e.state(&m, k.Str, v.Raw, nil, 0)
				return true
			})
		}
		if ok {
			sort.SliceStable(m.States, func(i, j int) bool { return m.States[i].RunNum < m.States[j].RunNum })
			return m, true
		}
	}
	e.v.note("minion ", id, ": not a state return, ignored")
	return m, false
}
