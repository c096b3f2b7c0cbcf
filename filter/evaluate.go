package filter

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
)

// InputError says why an input could not be read, and where: its name,
// line and byte offset.
type InputError = jsonstream.InputError

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
	j judge
	// segSize and segMax replace jsonstream's segment sizes (tests).
	segSize, segMax int
}

// judge hears the stream from jsonstream and judges what Salt said. It
// sees decoded keys and raw values only.
type judge struct {
	opts       Options
	plainPaths bool      // result and changes paths are plain keys
	fieldKeys  [4]string // then: the result, changes, duration and __parallel__ keys
	funs       map[string]bool
	v          Verdict
	doc        docState
	spares     []*judge  // forks joined already, to fork again
	succeeded  []uint64  // the minion's so far (KeepSucceeded), copied to it at its end
	low        [2]string // an event's state.low: the state module and function run
	test       bool      // an event's arguments ask for a test run

}

// docState is what is known of the open document's shape.
type docState struct {
	size      int  // bytes of the members held
	wrapper   bool // a key only wrappers have was seen
	streaming bool // taken for a minion map: members go straight through
	jid       string
}

// NewEvaluator returns an Evaluator with the given options.
func NewEvaluator(opts Options) *Evaluator {
	funs := map[string]bool{}
	for _, f := range opts.StateFuns {
		funs[f] = true
	}
	return &Evaluator{j: *newJudge(opts, funs)}
}

func newJudge(opts Options, funs map[string]bool) *judge {
	j := &judge{opts: opts, funs: funs, plainPaths: isPlainKey(opts.ResultPath) && isPlainKey(opts.ChangesPath),
		fieldKeys: [4]string{opts.ResultPath, opts.ChangesPath, "duration", "__parallel__"}}
	j.v.totalsOnly = opts.TotalsOnly
	return j
}

// Evaluate reads one input and returns its verdict: a convenience for a
// single stream.
func Evaluate(src io.Reader, name string, opts Options) (*Verdict, error) {
	e := NewEvaluator(opts)
	err := e.Read(src, name)
	return e.Verdict(), err
}

// Verdict returns the verdict over everything read so far.
func (e *Evaluator) Verdict() *Verdict { return &e.j.v }

// Read evaluates one input stream, on Options.Procs cores. On an
// *InputError the members and documents read before the fault stay in
// the verdict, whose status becomes Unknown.
func (e *Evaluator) Read(src io.Reader, name string) error {
	o := jsonstream.Options{Procs: e.j.opts.Procs, SegmentSize: e.segSize, SegmentMax: e.segMax, MaxValue: e.j.opts.MaxValueBytes}
	warnings, lines := len(e.j.v.Warnings), e.j.v.textLines
	err := jsonstream.Read(src, name, &e.j, o)
	e.j.v.capText(warnings, lines, name)
	if err != nil {
		e.j.v.Status = Unknown
		if e.j.v.InputError == "" {
			e.j.v.InputError = err.Error()
		}
	}
	return err
}

// Text hears a line that is not JSON.
func (j *judge) Text(t jsonstream.Text) {
	if id, ok := batchNoResponse(t.Bytes); ok {
		// Batch mode (-b) says so in text, and the minion is in no
		// document: this line is the only news of it.
		j.v.add(Minion{ID: id, ErrorKind: NoReturn, Error: string(t.Bytes)})
		return
	}
	if l := strings.TrimSpace(string(t.Bytes)); strings.HasPrefix(l, noMatch) {
		// The salt CLI's word that the job went nowhere; the `{}` after
		// it holds no minion.
		j.v.saltError(l)
		return
	}
	j.v.textLines++
	j.v.warn(t.Name, ": line ", strconv.Itoa(t.Line), ": skipped a line that is not JSON: ", escapeControls(t.Bytes))
}

// escapeControls shows control characters (a terminal's escapes) as
// \xNN: a skipped line is printed on a terminal and mailed by cron.
func escapeControls(b []byte) string {
	var out strings.Builder
	for _, r := range string(b) {
		if r < ' ' && r != '\t' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&out, "\\x%02x", r)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

// noMatch starts the salt CLI's line for a target that matched nothing:
// "No minions matched the target. No command was sent, no jid was
// assigned."
const noMatch = "No minions matched the target."

// String hears a document that is one JSON string: the salt CLI says so
// when the job could not run at all (the master did not answer).
func (j *judge) String(v jsonstream.Value) {
	j.v.Documents++
	j.v.saltError(parse(v).Str)
}

// Start: a document opens; its shape is not known yet.
func (j *judge) Start(*jsonstream.Doc) {
	j.v.Documents++
	j.doc = docState{}
}

// Member: the document holds its members (no copy) until it is seen to
// be a minion map too large to hold; then they go straight through.
func (j *judge) Member(d *jsonstream.Doc, m jsonstream.Member) {
	s := &j.doc
	if s.streaming {
		j.mapMember(m.Key, m.Value, &s.jid)
		return
	}
	s.size += len(m.Key) + len(m.Value.Raw) // a key can be huge too
	if wrapperKeys[string(m.Key)] {
		s.wrapper = true
	}
	if s.size > bufferLimit && !s.wrapper {
		j.flushMinionMap(d)
		s.streaming = true
	}
}

// End: the document is whole; unless it went through already, judge
// it by its shape.
func (j *judge) End(d *jsonstream.Doc) {
	if !j.doc.streaming {
		j.document(d.Held())
	}
}

// Cut: the input failed inside the document. A cut-off minion map's
// complete minions are real.
func (j *judge) Cut(d *jsonstream.Doc) {
	if !j.doc.wrapper {
		j.flushMinionMap(d)
	}
	j.doc = docState{}
}

// flushMinionMap evaluates the held members as a minion map, and stops
// holding them.
func (j *judge) flushMinionMap(d *jsonstream.Doc) {
	for _, m := range d.Held() {
		j.mapMember(m.Key, m.Value, &j.doc.jid)
	}
	d.Release()
}

// Fork returns a judge for a segment of the input, with the same options.
func (j *judge) Fork() jsonstream.Handler {
	if n := len(j.spares); n > 0 {
		f := j.spares[n-1]
		j.spares = j.spares[:n-1]
		return f
	}
	return newJudge(j.opts, j.funs)
}

// Join adds a segment's verdict, which follows this one's in the input.
func (j *judge) Join(h jsonstream.Handler) {
	f := h.(*judge)
	j.v.merge(&f.v)
	f.v, f.doc = Verdict{totalsOnly: j.opts.TotalsOnly}, docState{}
	j.spares = append(j.spares, f)
}

// batchNoResponse reads salt -b's line for a minion that did not
// answer: "Minion web1 did not respond. No job will be sent."
func batchNoResponse(line []byte) (string, bool) {
	const pre, post = "Minion ", " did not respond. No job will be sent."
	l := strings.TrimSpace(string(line))
	if !strings.HasPrefix(l, pre) || !strings.HasSuffix(l, post) {
		return "", false
	}
	id := l[len(pre) : len(l)-len(post)]
	return id, id != "" && !strings.ContainsAny(id, " \t")
}
