package filter

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// sep separates the parts of a state key: <mod>_|-<id>_|-<name>_|-<fun>.
const sep = "_|-"

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
// strings "true" and "false" are read as such, anything else failed.
func outcome(result, changes gjson.Result) Outcome {
	switch result.Type {
	case gjson.False:
		return Failed
	case gjson.Null:
		if result.Exists() {
			return Pending
		}
		return Failed
	case gjson.True:
	case gjson.String:
		if !strings.EqualFold(result.Str, "true") {
			return Failed
		}
	default:
		return Failed
	}
	if nonEmpty(changes) {
		return Changed
	}
	return Succeeded
}

// nonEmpty: a non-empty object, array or string.
func nonEmpty(r gjson.Result) bool {
	switch r.Type {
	case gjson.String:
		return r.Str != ""
	case gjson.JSON:
		empty := true
		r.ForEach(func(_, _ gjson.Result) bool {
			empty = false
			return false
		})
		return !empty
	}
	return false
}

// durationMS reads Salt's duration: a number of milliseconds, or in old
// releases a string such as "12.345 ms".
func durationMS(r gjson.Result) float64 {
	switch r.Type {
	case gjson.Number:
		return r.Num
	case gjson.String:
		f, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r.Str), "ms")), 64)
		return f
	}
	return 0
}

// text renders a field that should be a string but may be anything:
// a list is joined by newlines, as Salt's outputter does for comments.
func text(r gjson.Result) string {
	switch r.Type {
	case gjson.String:
		return r.Str
	case gjson.Null:
		return ""
	case gjson.JSON:
		if r.IsArray() {
			var parts []string
			for _, e := range r.Array() {
				parts = append(parts, text(e))
			}
			return strings.Join(parts, "\n")
		}
	}
	return r.Raw
}

// stateOf builds the full State of a reported entry. Every string is
// cloned: the entry may point into the reader's buffer.
func (e *Evaluator) stateOf(key, v string, o Outcome, result, changes gjson.Result, dur float64) State {
	f := gjson.GetMany(v, e.opts.CommentPath, "__id__", "__sls__", "__run_num__", "start_time", "warnings")
	id := ""
	if f[1].Type == gjson.String {
		id = f[1].Str
	}
	mod, sid, name, fun := splitKey(key, id)
	st := State{
		Key:        strings.Clone(key),
		ID:         strings.Clone(sid),
		Name:       strings.Clone(name),
		Function:   strings.Clone(mod + "." + fun),
		SLS:        strings.Clone(text(f[2])),
		Outcome:    o,
		Result:     []byte(rawOr(result, "null")),
		Comment:    strings.Clone(text(f[0])),
		Changes:    []byte(rawOr(changes, "{}")),
		RunNum:     int(f[3].Int()),
		DurationMS: dur,
		Started:    strings.Clone(text(f[4])),
	}
	if f[5].IsArray() {
		st.Warnings = []string{}
		for _, w := range f[5].Array() {
			st.Warnings = append(st.Warnings, strings.Clone(text(w)))
		}
	}
	return st
}

func rawOr(r gjson.Result, def string) string {
	if !r.Exists() {
		return def
	}
	return r.Raw
}
