package jsonstream

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/saltmail/saltmail/internal/golden"
	"github.com/tidwall/gjson"
)

func init() {
	// The corpus, seen from filter/internal/jsonstream.
	golden.Corpus = filepath.Join("..", "..", "..", "testdata", "corpus")
}

// recorder is a Handler that writes down what it hears, one line per
// call, and checks as it goes that the Doc holds what it heard and, with
// each set, that Each walks every member value as gjson does.
type recorder struct {
	t        testing.TB
	release  int  // release each document after this many members; 0: hold it
	each     bool // compare Each with gjson on every member value
	log      []string
	heard    []string // the members of the open document
	released bool
}

func (r *recorder) Text(t Text) {
	r.log = append(r.log, fmt.Sprintf("text %s:%d %q", t.Name, t.Line, t.Bytes))
}

func (r *recorder) String(v Value) {
	r.log = append(r.log, fmt.Sprintf("string %s", v.Raw))
}

func (r *recorder) Start(d *Doc) {
	r.log = append(r.log, "start")
	r.heard, r.released = r.heard[:0], false
	r.checkHeld(d)
}

func (r *recorder) Member(d *Doc, m Member) {
	line := fmt.Sprintf("member %q: %s", m.Key, m.Value.Raw)
	r.log = append(r.log, line)
	if r.each {
		eachAgrees(r.t, m.Value, 3)
	}
	if !r.released {
		r.heard = append(r.heard, line)
	}
	if len(r.heard) == r.release && !r.released {
		r.checkHeld(d)
		d.Release()
		r.released = true
		r.checkHeld(d)
	} else if held := d.Held(); !r.released && len(held) != len(r.heard) {
		r.t.Errorf("holds %d members, heard %d", len(held), len(r.heard))
	}
}

func (r *recorder) End(d *Doc) {
	r.checkHeld(d)
	r.log = append(r.log, "end")
}

func (r *recorder) Cut(d *Doc) {
	r.checkHeld(d)
	r.log = append(r.log, "cut")
}

func (r *recorder) Fork() Handler { return &recorder{t: r.t, release: r.release, each: r.each} }

func (r *recorder) Join(h Handler) { r.log = append(r.log, h.(*recorder).log...) }

// checkHeld: what the Doc holds is what was heard since Start (nothing
// once released), however the buffer moved meanwhile.
func (r *recorder) checkHeld(d *Doc) {
	held := d.Held()
	if r.released {
		if len(held) > 0 {
			r.t.Errorf("released, yet %d members held", len(held))
		}
		return
	}
	var got []string
	for _, m := range held {
		got = append(got, fmt.Sprintf("member %q: %s", m.Key, m.Value.Raw))
		if r.each {
			eachAgrees(r.t, m.Value, 2) // the spans held are the member's still
		}
	}
	if strings.Join(got, "\n") != strings.Join(r.heard, "\n") {
		r.t.Errorf("held %d members, heard %d:\nheld  %.300q\nheard %.300q", len(got), len(r.heard), got, r.heard)
	}
}

// eachAgrees checks Each against gjson's ForEach of the same bytes,
// depth levels down: the keys as gjson decodes them, the values' bytes.
func eachAgrees(t testing.TB, v Value, depth int) {
	t.Helper()
	var got, want []string
	var kids []Value
	v.Each(func(k []byte, val Value) bool {
		got = append(got, string(k)+"\x00"+string(val.Raw))
		kids = append(kids, val)
		return true
	})
	g := gjson.ParseBytes(v.Raw)
	if g.IsObject() {
		g.ForEach(func(k, val gjson.Result) bool {
			want = append(want, k.Str+"\x00"+val.Raw)
			return true
		})
	}
	if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
		t.Errorf("Each and gjson disagree on %.200s:\nEach  %.300q\ngjson %.300q", v.Raw, got, want)
		return
	}
	findAgrees(t, v, got)
	if depth > 1 {
		for _, k := range kids {
			eachAgrees(t, k, depth-1)
		}
	}
}

// findAgrees checks Find against the first of each key that Each
// walked (members: key NUL raw), and a key that is not there.
func findAgrees(t testing.TB, v Value, members []string) {
	t.Helper()
	first := map[string]string{}
	keys := []string{"\x00not a key"}
	for _, m := range members {
		k, raw, _ := strings.Cut(m, "\x00")
		if _, ok := first[k]; !ok {
			first[k] = raw
			keys = append(keys, k)
		}
	}
	found := make([]Value, len(keys))
	for i := range found {
		found[i] = Value{Raw: []byte("stale")}
	}
	v.Find(keys, found)
	for i, k := range keys {
		if want := first[k]; string(found[i].Raw) != want {
			t.Errorf("Find(%q) in %.200s = %.100q, want %.100q", k, v.Raw, found[i].Raw, want)
		}
	}
}

// record reads in with procs cores (segments of a few hundred bytes)
// and returns what the recorder heard and the error.
func record(t testing.TB, in []byte, src func([]byte) io.Reader, procs, release int) ([]string, string) {
	t.Helper()
	r := &recorder{t: t, release: release, each: true}
	err := Read(src(in), "in.json", r, Options{Procs: procs, SegmentSize: 97, SegmentMax: 400})
	if err == nil {
		return r.log, ""
	}
	if _, ok := err.(*InputError); !ok {
		t.Errorf("not an *InputError: %T %v", err, err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("a multi-line error: %q", err)
	}
	return r.log, err.Error()
}

func whole(b []byte) io.Reader { return bytes.NewReader(b) }

func halves(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }

func oneByte(b []byte) io.Reader {
	return iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(b)))
}

// sameReading fails unless both readings heard the same and failed alike.
func sameReading(t testing.TB, what string, log1 []string, err1 string, log2 []string, err2 string) {
	t.Helper()
	if err1 != err2 {
		t.Errorf("%s: errors differ:\n%q\n%q", what, err1, err2)
	}
	for i := 0; i < len(log1) && i < len(log2); i++ {
		if log1[i] != log2[i] {
			t.Errorf("%s: call %d differs:\n%.300q\n%.300q", what, i, log1[i], log2[i])
			return
		}
	}
	if len(log1) != len(log2) {
		t.Errorf("%s: %d calls, then %d", what, len(log1), len(log2))
	}
}
