package filter

import (
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// bufferLimit is how many bytes of a document's members are held before
// the document is taken for a minion map and evaluated member by member.
// Envelopes (events, orchestration, salt-api) are small around their
// one return; a fleet-wide --static document is not.
const bufferLimit = 1 << 20

// wrapperKeys appear at the top of documents that are not minion maps.
var wrapperKeys = map[string]bool{
	"fun": true, "return": true, "data": true, "outputter": true,
	"Result": true, "Function": true,
}

// Evaluator reads inputs and accumulates one Verdict over all of them.
type Evaluator struct {
	opts       Options
	plainPaths bool // result and changes paths are plain keys
	funs       map[string]bool
	v          Verdict
	doc        docBuffer
	r          *Reader // the one being read
	noSpans    bool    // tests: ignore what the reader located, scan again
}

type member struct {
	key      string
	value    []byte // set for members not in the reader's buffer
	off, end int64  // the value's bytes in the reader's buffer
	spans    []Span // the value's own members, when the reader found them
	fields   []Span // and theirs
}

// docBuffer holds the members of the open document until its shape is
// known.
type docBuffer struct {
	members   []member
	size      int
	wrapper   bool // a key only wrappers have was seen
	streaming bool // taken for a minion map: members go straight through
	jid       string
	spans     []Span // the members' children, one backing array per document
	fields    []Span
}

// NewEvaluator returns an Evaluator with the given options.
func NewEvaluator(opts Options) *Evaluator {
	e := &Evaluator{opts: opts, funs: map[string]bool{}, plainPaths: isPlainKey(opts.ResultPath) && isPlainKey(opts.ChangesPath)}
	e.v.totalsOnly = opts.TotalsOnly
	for _, f := range opts.StateFuns {
		e.funs[f] = true
	}
	return e
}

// Evaluate reads one input and returns its verdict: a convenience for a
// single stream.
func Evaluate(src io.Reader, name string, opts Options) (*Verdict, error) {
	e := NewEvaluator(opts)
	err := e.Read(src, name)
	return e.Verdict(), err
}

// Verdict returns the verdict over everything read so far.
func (e *Evaluator) Verdict() *Verdict { return &e.v }

// Read evaluates one input stream. On an *InputError the members and
// documents read before the fault stay in the verdict, whose status
// becomes Unknown.
func (e *Evaluator) Read(src io.Reader, name string) error {
	r := NewReader(src, name)
	e.r = r
	for {
		tok, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if r.inDoc && !e.doc.wrapper {
				// A cut-off minion map: its complete minions are real.
				e.flushMinionMap()
			}
			e.doc = docBuffer{}
			e.v.Status = Unknown
			if e.v.Input == "" {
				e.v.Input = err.Error()
			}
			return err
		}
		switch tok.Kind {
		case Text:
			e.v.warn(name + ": line " + strconv.Itoa(tok.Line) + ": skipped a line that is not JSON: " + string(tok.Value))
		case DocStart:
			e.v.Documents++
			e.doc = docBuffer{members: e.doc.members[:0], spans: e.doc.spans[:0], fields: e.doc.fields[:0]}
		case Member:
			e.member(unquote(tok.Key), tok)
		case DocEnd:
			if !e.doc.streaming {
				e.document(e.resolve(e.doc.members))
			}
			e.doc.members = e.doc.members[:0]
		}
	}
}

func (e *Evaluator) member(key string, tok Token) {
	d := &e.doc
	if d.streaming {
		e.mapMember(key, bstr(tok.Value), tok.Children, tok.Fields, &d.jid)
		return
	}
	// The value stays in the reader's buffer (it keeps the open
	// document): remember where, copy nothing.
	n, nf := len(d.spans), len(d.fields)
	d.spans = append(d.spans, tok.Children...)
	d.fields = append(d.fields, tok.Fields...)
	d.members = append(d.members, member{key: key, off: tok.ValueOff, end: tok.ValueOff + int64(len(tok.Value)),
		spans: d.spans[n:len(d.spans):len(d.spans)], fields: d.fields[nf:len(d.fields):len(d.fields)]})
	d.size += len(tok.Value)
	if wrapperKeys[key] {
		d.wrapper = true
	}
	if d.size > bufferLimit && !d.wrapper {
		e.flushMinionMap()
		d.streaming = true
		e.r.Unpin()
	}
}

// resolve points the buffered members at their bytes.
func (e *Evaluator) resolve(ms []member) []member {
	for i := range ms {
		if ms[i].value == nil {
			ms[i].value = e.r.Bytes(ms[i].off, ms[i].end)
		}
	}
	return ms
}

// flushMinionMap evaluates the buffered members as a minion map.
func (e *Evaluator) flushMinionMap() {
	for _, m := range e.resolve(e.doc.members) {
		e.mapMember(m.key, bstr(m.value), m.spans, m.fields, &e.doc.jid)
	}
	e.doc.members = e.doc.members[:0]
}

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
		*jid = gjson.Parse(value).Str
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
		e.v.note("minion " + id + ": " + fun + " is not a state function, ignored")
		return
	}
	if ret.IsObject() && ret.Get("outputter").Exists() && ret.Get("data").IsObject() {
		e.orchestration(ret.Get("data"), jid, retcode)
		return
	}
	m, ok := e.minion(id, ret.Raw, false)
	if !ok {
		m = Minion{Minion: id}
	}
	m.JID, m.Fun = jid, fun
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
			stepJID := step.Get("__jid__").String()
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
	m.Minion = strings.Clone(id)
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
		if e.opts.Watch != nil {
			m.watch = e.opts.Watch(m.Minion)
		}
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
	e.v.note("minion " + id + ": not a state return, ignored")
	return m, false
}

// state counts one state entry and keeps it when it is news.
// fs, when not nil, are the entry's members as the reader found them,
// at offsets base bytes before v.
func (e *Evaluator) state(m *Minion, key, v string, fs []Span, base int) {
	f := e.fields(v, fs, base)
	o := outcome(f[0], f[1])
	dur := durationMS(f[2])
	m.Counts.States++
	m.RunTimeMS += dur
	if len(e.opts.Rules) > 0 {
		var ignored bool
		if o, ignored = ruling(e.opts.Rules, e.facts(m.Minion, key, v), o); ignored {
			m.Ignored++
		}
	}
	if m.watch[key] {
		if m.Seen == nil {
			m.Seen = map[string]Outcome{}
		}
		m.Seen[strings.Clone(key)] = o
	}
	if o == Changed || (o != Succeeded && nonEmpty(f[1])) {
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

// unquote decodes a raw JSON string key.
func unquote(raw []byte) string {
	if len(raw) >= 2 && strings.IndexByte(bstr(raw[1:len(raw)-1]), '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	return gjson.ParseBytes(raw).String()
}

// bstr views bytes as a string without copying. The bytes must not
// change while the string is in use: member values are only read until
// the next Reader.Next, and anything kept is cloned first.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
