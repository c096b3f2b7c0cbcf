package jsonstream

// Doc is the open document. It holds the document's members from Start
// on, in the reader's buffer, uncopied, so that a handler can wait to
// see a document's shape before it reads its members; it stops at End,
// or at Release, which a handler calls when a document is too large to
// hold (then it reads member by member, in flat memory).
type Doc struct {
	r       *reader
	holding bool
	ms      []held
	keys    []byte // the held members' decoded keys
	out     []Member
}

// held is where a held member lies: its key in keys, its value in the
// input, its located members in the scanner's kept spans.
type held struct {
	k0, k1   int
	off, end int64
	c0, c1   int
}

// Held returns the members since Start, unless released: valid until
// the call that asked returns, since the buffer moves as it reads on.
func (d *Doc) Held() []Member {
	if !d.holding {
		return nil
	}
	sc := &d.r.sc
	d.out = d.out[:0]
	for _, h := range d.ms {
		d.out = append(d.out, Member{
			Key:   d.keys[h.k0:h.k1:h.k1],
			Value: Value{Raw: d.r.bytes(h.off, h.end), kids: sc.children[h.c0:h.c1:h.c1], sub: sc.fields, deep: true, located: true},
		})
	}
	return d.out
}

// Release stops holding: the members held so far are dropped, and the
// members that follow are valid only during their own call.
func (d *Doc) Release() { d.reset() }

// hold keeps the member just read: its value stays in the buffer, and
// its located members stay in the scanner (not overwritten by the next).
func (d *Doc) hold(key []byte, tok token) {
	sc := &d.r.sc
	k0 := len(d.keys)
	d.keys = append(d.keys, key...)
	d.ms = append(d.ms, held{k0: k0, k1: len(d.keys), off: tok.valueOff, end: tok.valueOff + int64(len(tok.value)),
		c0: sc.keptC, c1: len(sc.children)})
	sc.keptC, sc.keptF = len(sc.children), len(sc.fields)
}

func (d *Doc) reset() {
	d.holding = false
	d.ms, d.keys = d.ms[:0], d.keys[:0]
	if d.r != nil {
		d.r.sc.keptC, d.r.sc.keptF = 0, 0
	}
}
