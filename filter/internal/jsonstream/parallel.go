package jsonstream

import "io"

// Reading on every core. Tools that print a stream of documents (one
// per line, or pretty-printed one after another) open each with a '{'
// at the start of a line. The stream is cut into segments just before
// such lines, and each segment is heard by a forked Handler on a core
// of its own; they are joined in input order.
//
// A cut is a guess: JSON allows a '{' at the start of any line. The
// segment before proves it. Read from a true document boundary, a
// segment that ends outside any document ends on a true boundary too, so
// the next segment starts on one. A segment that ends inside a document
// proves the cut after it wrong: from that segment on, the input is read
// in order by one reader, as if it had never been cut, until a document
// ends past the bad cut; then cutting resumes. Either way the handler
// hears, and Read returns, what one reader in order would.

const (
	// segmentSize is how much is read before looking for a cut.
	segmentSize = 1 << 20
	// segmentMax: with no cut in this many bytes (one huge document),
	// they are read in order, in flat memory, and cutting resumes after
	// the document that ends past them.
	segmentMax = 4 << 20
)

// Options say how to read.
type Options struct {
	// Procs is how many cores to read on; 0 or 1 reads in order, on the
	// caller's goroutine, and never calls Fork.
	Procs int
	// SegmentSize and SegmentMax, when set, replace the 1 MiB read
	// before looking for a cut and the 4 MiB without one after which
	// the input is read in order (tests set tiny ones).
	SegmentSize, SegmentMax int
	// MaxValue bounds the bytes of one top-level member (a minion's
	// return, an event's "return"): a larger one is an input error at
	// its start, found before it is all in memory. 0: no bound.
	MaxValue int
}

// Read reads the stream of JSON documents from src and tells h what it
// holds, in order. It returns nil at the clean end of the input, else
// an *InputError naming the input (name), line and byte of the fault;
// what came before the fault has been told. No goroutine it started
// runs on after it returns.
func Read(src io.Reader, name string, h Handler, o Options) error {
	if o.Procs < 2 {
		r := newReader(src, name)
		r.max = o.MaxValue
		_, err := r.run(h, -1)
		return err
	}
	d := &driver{name: name, h: h, procs: o.Procs, max: o.MaxValue}
	d.sp = splitter{src: src, size: o.SegmentSize, max: o.SegmentMax, bufs: &d.bufs}
	if d.sp.size == 0 {
		d.sp.size, d.sp.max = segmentSize, segmentMax
	}
	return d.read()
}

// driver reads one stream cut into segments.
type driver struct {
	name  string
	h     Handler
	procs int
	max   int
	sp    splitter
	bufs  [][]byte
	// readers joined already, to read the next segments with: their
	// scanner's and Doc's slices keep their capacity, so segments cost
	// no garbage.
	readers []*reader
	docs    int        // documents read so far, in order or in joined segments
	queue   []*segment // segments being read, in input order
	// Times in a row no cut was found, and a cut was wrong: twice says
	// this input does not open its documents on lines of their own.
	stalls, wrong int
}

// segment is one cut of the input and, once done is closed, what its
// forked handler heard.
type segment struct {
	data  []byte
	off   int64 // input offset of data[0]
	lines int   // newlines before data[0]
	final bool  // data runs to the end of the input
	rerr  error // the read error that ended the input, if any

	h    Handler
	r    *reader
	err  error
	cut  bool // data ended inside a document
	docs int
	done chan struct{}
}

func (s *segment) reader(name string) *reader {
	return &reader{name: name, buf: s.data, base: s.off, lines: s.lines, eof: true, rerr: s.rerr}
}

func (d *driver) read() error {
	for {
		if done, err := d.cut(); done {
			return err
		}
		if len(d.queue) > 0 {
			if done, err := d.join(); done {
				return err
			}
			continue
		}
		if d.sp.eof && len(d.sp.carry) == 0 {
			// A cut is made before a document and a stop in order after
			// one, so the input held one: "no JSON document" cannot apply.
			return nil
		}
		// No cut within segmentMax (one huge document, or documents
		// with no line break between them): read in order past what
		// was searched, then cut again. Reading less would search the
		// same bytes again for each small document. Twice in a row:
		// no line opens a document here, read the rest in order.
		stop := d.sp.off + int64(len(d.sp.carry))
		if d.stalls++; d.stalls > 1 {
			stop = -1
		}
		if done, err := d.inOrder(stop); done {
			return err
		}
	}
}

// cut queues segments until every core has one and one waits; when
// the rest of the input is one segment and nothing is queued, it reads
// it here: done.
func (d *driver) cut() (done bool, err error) {
	for len(d.queue) <= d.procs {
		s, ok := d.sp.next()
		if !ok {
			return false, nil
		}
		d.stalls = 0
		if s.final && len(d.queue) == 0 {
			r := s.reader(d.name)
			r.docs, r.max = d.docs, d.max
			_, err := r.run(d.h, -1)
			return true, err
		}
		d.queue = append(d.queue, d.start(s))
		if s.final {
			return false, nil
		}
	}
	return false, nil
}

// join waits for the first queued segment and joins what it heard, or,
// when it proves the cut after it wrong, reads in order from it on,
// past the cut, then cuts again (twice in a row: to the end); done says
// the input ended, or failed with err.
func (d *driver) join() (done bool, err error) {
	s := d.queue[0]
	d.queue = d.queue[1:]
	<-s.done
	if s.cut && !s.final {
		d.sp.backTo(s, d.queue)
		d.queue = d.queue[:0]
		stop := s.off + int64(len(s.data))
		if d.wrong++; d.wrong > 1 {
			stop = -1
		}
		return d.inOrder(stop)
	}
	d.wrong = 0
	d.h.Join(s.h)
	d.docs += s.docs
	d.sp.recycle(s.data)
	s.r.buf, s.r.src = nil, nil
	d.readers = append(d.readers, s.r)
	if s.err != nil {
		for _, q := range d.queue {
			<-q.done // nothing runs on after Read returns
		}
		return true, s.err
	}
	return false, nil
}

// inOrder reads the splitter's rest in order up to the end of the first
// document that ends at or after offset stop (to the end if stop < 0),
// and leaves the splitter after it; done says the input ended, or
// failed with err.
func (d *driver) inOrder(stop int64) (done bool, err error) {
	sp := &d.sp
	r := newReader(sp.rest(), d.name)
	r.base, r.lines, r.docs, r.max = sp.off, sp.lines, d.docs, d.max
	stopped, err := r.run(d.h, stop)
	d.docs = r.docs
	if !stopped {
		return true, err
	}
	off, line := r.at(r.pos)
	sp.off, sp.lines = off, line-1
	sp.carry = append(sp.buffer(), r.buf[r.pos:]...)
	sp.src, sp.eof, sp.rerr = r.src, r.eof, r.rerr
	return false, nil
}

// start has s heard on a core of its own, by a forked handler.
func (d *driver) start(s *segment) *segment {
	s.h = d.h.Fork()
	s.r = d.segmentReader(s)
	s.done = make(chan struct{})
	go func() {
		r := s.r
		_, s.err = r.run(s.h, -1)
		s.cut, s.docs = r.cut, r.docs
		close(s.done)
	}()
	return s
}

// segmentReader is a reader for segment s: a spare one, emptied, when
// there is one.
func (d *driver) segmentReader(s *segment) *reader {
	r := &reader{}
	if n := len(d.readers); n > 0 {
		r, d.readers = d.readers[n-1], d.readers[:n-1]
	}
	sc, doc, text, key := r.sc, r.doc, r.text, r.key
	*r = *s.reader(d.name)
	r.segment = true // the input is checked for documents whole
	r.max = d.max
	r.sc = scanner{stack: sc.stack[:0], children: sc.children[:0], fields: sc.fields[:0]}
	r.doc = Doc{ms: doc.ms[:0], keys: doc.keys[:0], out: doc.out[:0]}
	r.text, r.key = text[:0], key[:0]
	return r
}
