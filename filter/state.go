package filter

import (
	"strconv"
	"strings"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
	"github.com/tidwall/gjson"
)

// sep separates the parts of a state key: <mod>_|-<id>_|-<name>_|-<fun>.
const sep = "_|-"

var sepBytes = []byte(sep)

// splitKey splits a state key into module, id, name and function. The
// name part may itself hold the separator, so the module and function
// are cut from the ends, and the id is taken from __id__ when the key
// starts with it.
func splitKey(key, id string) (mod, sid, name, fun string) {
	first := strings.Index(key, sep)
	last := strings.LastIndex(key, sep)
	if first < 0 {
		return "", key, key, ""
	}
	mod, fun = key[:first], key[last+len(sep):]
	if first == last {
		return mod, "", "", fun
	}
	mid := key[first+len(sep) : last]
	if id != "" && strings.HasPrefix(mid, id+sep) {
		return mod, id, mid[len(id)+len(sep):], fun
	}
	if k := strings.Index(mid, sep); k >= 0 {
		return mod, mid[:k], mid[k+len(sep):], fun
	}
	return mod, mid, mid, fun
}

// outcome decides a state's outcome from its result and changes: first
// match wins, so a failed cmd.run that also has changes is failed.
// A result that is not a JSON boolean or null cannot prove success; the
// strings "true" and "false" are read as such, anything else failed. A
// missing result (no value) proves nothing either.
func outcome(result, changes jsonstream.Value) Outcome {
	switch result.Kind() {
	case jsonstream.False:
		return Failed
	case jsonstream.Null:
		return Pending
	case jsonstream.True:
	case jsonstream.String:
		if !strings.EqualFold(parse(result).Str, "true") {
			return Failed
		}
	default:
		return Failed
	}
	if hasChanges(changes.Raw) {
		return Changed
	}
	return Succeeded
}

// durationMS reads Salt's duration: a number of milliseconds, or in old
// releases a string such as "12.345 ms".
func durationMS(v jsonstream.Value) float64 {
	switch v.Kind() {
	case jsonstream.Number:
		f, _ := strconv.ParseFloat(string(v.Raw), 64)
		return f
	case jsonstream.String:
		f, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(parse(v).Str), "ms")), 64)
		return f
	}
	return 0
}

// state counts one state entry and keeps it when it is news.
func (j *judge) state(m *Minion, key []byte, entry jsonstream.Value) {
	f := j.fields(entry)
	o := outcome(f[0], f[1])
	dur := durationMS(f[2])
	m.Counts.Total++
	if f[3].Kind() == jsonstream.True {
		m.parallelMS = max(m.parallelMS, dur)
	} else {
		m.RunTimeMS += dur
	}
	if len(j.opts.Rules) > 0 {
		var ignored bool
		if o, ignored = ruling(j.opts.Rules, facts(m.ID, key, entry.Raw), o); ignored {
			m.Ignored++
		}
	}
	if o == Succeeded && j.opts.KeepSucceeded && !j.opts.TotalsOnly {
		j.succeeded = append(j.succeeded, keyPrint(key))
	}
	if o == Changed || (o != Succeeded && hasChanges(f[1].Raw)) {
		m.WithChanges++
	}
	switch o {
	case Succeeded:
		return
	case Failed:
		m.Failed++
	case Changed:
		m.Changed++
	case Pending:
		m.Pending++
	}
	if !j.opts.TotalsOnly {
		st := j.stateOf(key, entry.Raw, o, f[0], f[1], dur)
		if st.Warnings != nil {
			m.Warned++ // Salt counts warnings only of the states it shows
		}
		m.States = append(m.States, st)
	}
}

// fields reads a state's result, changes, duration and __parallel__
// (no value where the entry has none). With the plain default paths one
// walk over the entry's members finds them and stops there (GetMany
// would scan it once per path); with TotalsOnly the run time is not
// needed either. The first of duplicate keys wins, as with gjson.Get.
func (j *judge) fields(entry jsonstream.Value) [4]jsonstream.Value {
	var f [4]jsonstream.Value
	if !j.plainPaths {
		for i, r := range gjson.GetManyBytes(entry.Raw, j.opts.ResultPath, j.opts.ChangesPath, "duration", "__parallel__") {
			f[i] = value(r)
		}
		return f
	}
	keys := j.fieldKeys[:]
	if j.opts.TotalsOnly {
		keys = keys[:2]
	}
	entry.Find(keys, f[:len(keys)])
	return f
}

// isPlainKey: a gjson path that is just an object key.
func isPlainKey(p string) bool {
	return p != "" && !strings.ContainsAny(p, ".*?|#@\\!=<>%[]{}()")
}
