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
	if hasChanges(changes.Raw) {
		return Changed
	}
	return Succeeded
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

// state counts one state entry and keeps it when it is news.
// fs, when not nil, are the entry's members as the reader found them,
// at offsets base bytes before v.
func (e *Evaluator) state(m *Minion, key, v string, fs []Span, base int) {
	f := e.fields(v, fs, base)
	o := outcome(f[0], f[1])
	dur := durationMS(f[2])
	m.Counts.Total++
	m.RunTimeMS += dur
	if len(e.opts.Rules) > 0 {
		var ignored bool
		if o, ignored = ruling(e.opts.Rules, e.facts(m.ID, key, v), o); ignored {
			m.Ignored++
		}
	}
	if o == Succeeded && e.opts.KeepSucceeded && !e.opts.TotalsOnly {
		m.succeeded = append(m.succeeded, keyPrint(key))
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
	if !e.opts.TotalsOnly {
		st := e.stateOf(key, v, o, f[0], f[1], dur)
		if st.Warnings != nil {
			m.Warned++ // Salt counts warnings only of the states it shows
		}
		m.States = append(m.States, st)
	}
}

// fields reads a state's result, changes and duration. With the plain
// default paths one pass over the entry finds them and stops there
// (GetMany would scan it once per path); with TotalsOnly the duration
// is not needed either. The first of duplicate keys wins, as with
// gjson.Get.
func (e *Evaluator) fields(v string, fs []Span, base int) [3]gjson.Result {
	var f [3]gjson.Result
	if !e.plainPaths {
		g := gjson.GetMany(v, e.opts.ResultPath, e.opts.ChangesPath, "duration")
		copy(f[:], g)
		return f
	}
	need := 3
	if e.opts.TotalsOnly {
		need = 2
	}
	var got [3]bool
	found := 0
	pick := func(k string, val func() gjson.Result) bool {
		i := -1
		switch k {
		case e.opts.ResultPath:
			i = 0
		case e.opts.ChangesPath:
			i = 1
		case "duration":
			i = 2
		}
		if i >= 0 && i < need && !got[i] {
			f[i], got[i] = val(), true
			found++
		}
		return found < need
	}
	if fs != nil {
		// The reader located the entry's members: no scan at all.
		for _, sp := range fs {
			k := v[sp.K0-base : sp.K1-base]
			if strings.IndexByte(k, '\\') >= 0 {
				k = gjson.Parse(k).Str
			} else {
				k = k[1 : len(k)-1]
			}
			raw := v[sp.V0-base : sp.V1-base]
			if !pick(k, func() gjson.Result { return gjson.Parse(raw) }) {
				break
			}
		}
		return f
	}
	gjson.Parse(v).ForEach(func(k, val gjson.Result) bool {
		return pick(k.Str, func() gjson.Result { return val })
	})
	return f
}

// isPlainKey: a gjson path that is just an object key.
func isPlainKey(p string) bool {
	return p != "" && !strings.ContainsAny(p, ".*?|#@\\!=<>%[]{}()")
}

// facts gathers what rules match on.
func (e *Evaluator) facts(minion, key, v string) *stateFacts {
	g := gjson.GetMany(v, "__id__", "__sls__")
	id := ""
	if g[0].Type == gjson.String {
		id = g[0].Str
	}
	mod, sid, name, fun := splitKey(key, id)
	return &stateFacts{minion: minion, id: sid, name: name, function: mod + "." + fun, sls: text(g[1]), entry: v}
}
