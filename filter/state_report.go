package filter

import (
	"strings"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
	"github.com/tidwall/gjson"
)

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

// stateOf builds the full State of a reported entry. gjson's Bytes
// functions copy what they find, and the rest is copied here: nothing
// kept points into the input.
func (j *judge) stateOf(key, entry []byte, o Outcome, result, changes jsonstream.Value, dur float64) State {
	f := gjson.GetManyBytes(entry, j.opts.CommentPath, "__id__", "__sls__", "__run_num__", "start_time", "warnings")
	id := ""
	if f[1].Type == gjson.String {
		id = f[1].Str
	}
	k := string(key)
	mod, sid, name, fun := splitKey(k, id)
	st := State{
		Key:        k,
		ID:         sid,
		Name:       name,
		Function:   mod + "." + fun,
		SLS:        text(f[2]),
		Outcome:    o,
		Result:     rawOr(result, "null"),
		Comment:    text(f[0]),
		Changes:    rawOr(changes, "{}"),
		RunNum:     int(f[3].Int()),
		DurationMS: dur,
		Started:    text(f[4]),
	}
	if f[5].IsArray() {
		st.Warnings = []string{}
		for _, w := range f[5].Array() {
			st.Warnings = append(st.Warnings, text(w))
		}
	}
	return st
}

// rawOr copies v's JSON, or returns def when there is no value.
func rawOr(v jsonstream.Value, def string) []byte {
	if v.Kind() == jsonstream.Invalid {
		return []byte(def)
	}
	return append([]byte(nil), v.Raw...)
}

// facts gathers what rules match on.
func facts(minion string, key, entry []byte) *stateFacts {
	g := gjson.GetManyBytes(entry, "__id__", "__sls__")
	id := ""
	if g[0].Type == gjson.String {
		id = g[0].Str
	}
	mod, sid, name, fun := splitKey(string(key), id)
	return &stateFacts{minion: minion, id: sid, name: name, function: mod + "." + fun, sls: text(g[1]), entry: entry}
}
