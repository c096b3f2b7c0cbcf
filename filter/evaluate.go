package filter

import (
	"errors"
	"io"
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
	par        parallel
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
	if e.procs() < 2 {
		return e.read(NewReader(src, name))
	}
	return e.readParallel(src, name)
}

// read evaluates what r reads, in order.
func (e *Evaluator) read(r *Reader) error {
	_, err := e.readUntil(r, -1)
	return err
}

// readUntil evaluates what r reads, in order, and stops after the first
// document that ends at or after offset stop, if stop >= 0: stopped.
func (e *Evaluator) readUntil(r *Reader, stop int64) (stopped bool, err error) {
	name := r.name
	e.r = r
	for {
		tok, err := r.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			if r.inDoc && !e.doc.wrapper {
				// A cut-off minion map: its complete minions are real.
				e.flushMinionMap()
			}
			e.doc = docBuffer{}
			e.v.Status = Unknown
			if e.v.InputError == "" {
				e.v.InputError = err.Error()
			}
			return false, err
		}
		switch tok.Kind {
		case Text:
			if id, ok := batchNoResponse(tok.Value); ok {
				// Batch mode (-b) says so in text, and the minion is in no
				// document: this line is the only news of it.
				e.v.add(Minion{ID: id, ErrorKind: NoReturn, Error: string(tok.Value)})
				continue
			}
			e.v.warn(name, ": line ", strconv.Itoa(tok.Line), ": skipped a line that is not JSON: ", string(tok.Value))
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
			if stop >= 0 && tok.Offset >= stop {
				return true, nil
			}
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
