package filter

import (
	"io"
	"runtime"
)

// Reading on every core. `salt '*' state.highstate --out=json` prints one
// document per minion, each opening with a '{' at the start of a line.
// The stream is cut into segments just before such lines, and each
// segment is evaluated by an Evaluator of its own on a free core; their
// verdicts are merged in input order.
//
// A cut is a guess: JSON allows a '{' at the start of any line. The
// segment before proves it. Read from a true document boundary, a
// segment that ends outside any document ends on a true boundary too, so
// the next segment starts on one. A segment that ends inside a document
// proves the cut after it wrong: from that segment on, the input is read
// in order by one Reader, as if it had never been cut, until a document
// ends past the bad cut; then cutting resumes. Either way the verdict,
// the errors and their positions are those of one Reader.

const (
	// segmentSize is how much is read before looking for a cut.
	segmentSize = 1 << 20
	// segmentMax: with no cut in this many bytes (one huge document, a
	// fleet's --static output), they are read in order, in flat memory,
	// and cutting resumes after the document that ends past them.
	segmentMax = 4 << 20
)

// parallel holds the Evaluator's parallel reading settings and spares.
type parallel struct {
	procs      int // cores to use; 0: GOMAXPROCS (tests set it)
	size, max  int // segmentSize, segmentMax unless set (tests)
	evaluators []*Evaluator
	bufs       [][]byte
}

func (e *Evaluator) procs() int {
	if e.par.procs != 0 {
		return e.par.procs
	}
	return runtime.GOMAXPROCS(0)
}

// segment is one cut of the input and, once done is closed, its verdict.
type segment struct {
	data  []byte
	off   int64 // input offset of data[0]
	lines int   // newlines before data[0]
	final bool  // data runs to the end of the input
	rerr  error // the read error that ended the input, if any

	ev   *Evaluator
	err  error
	cut  bool // data ended inside a document
	done chan struct{}
}

func (s *segment) reader(name string) *Reader {
	return &Reader{name: name, buf: s.data, base: s.off, lines: s.lines, eof: true, rerr: s.rerr}
}

func (e *Evaluator) readParallel(src io.Reader, name string) error {
	sp := splitter{src: src, size: e.par.size, max: e.par.max, bufs: &e.par.bufs}
	if sp.size == 0 {
		sp.size, sp.max = segmentSize, segmentMax
	}
	docs := e.v.Documents
	var queue []*segment
	// Times in a row no cut was found, and a cut was wrong: twice says
	// this input does not open its documents on lines of their own.
	stalls, wrong := 0, 0
	for {
		for len(queue) <= e.procs() {
			s, ok := sp.next()
			if !ok {
				break
			}
			stalls = 0
			if s.final && len(queue) == 0 {
				// The rest is one segment: read it here.
				r := s.reader(name)
				r.docs = e.v.Documents - docs
				return e.read(r)
			}
			queue = append(queue, e.start(s, name))
			if s.final {
				break
			}
		}
		if len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			<-s.done
			if s.cut && !s.final {
				// A wrong cut: read in order from this segment on, past
				// the cut, then cut again (twice in a row: to the end).
				sp.backTo(s, queue)
				queue = queue[:0]
				stop := s.off + int64(len(s.data))
				if wrong++; wrong > 1 {
					stop = -1
				}
				if done, err := e.inOrder(&sp, name, stop, docs); done {
					return err
				}
				continue
			}
			wrong = 0
			e.v.merge(&s.ev.v)
			e.par.evaluators = append(e.par.evaluators, s.ev)
			sp.recycle(s.data)
			if s.err != nil {
				for _, q := range queue {
					<-q.done // nothing runs on after Read returns
				}
				return s.err
			}
			continue
		}
		if sp.eof && len(sp.carry) == 0 {
			// A cut is made before a document and a stop in order after
			// one, so the input held one: "no JSON document" cannot apply.
			return nil
		}
		// No cut within segmentMax (one huge document, or documents
		// with no line break between them): read in order past what
		// was searched, then cut again. Reading less would search the
		// same bytes again for each small document. Twice in a row:
		// no line opens a document here, read the rest in order.
		stop := sp.off + int64(len(sp.carry))
		if stalls++; stalls > 1 {
			stop = -1
		}
		if done, err := e.inOrder(&sp, name, stop, docs); done {
			return err
		}
	}
}

// inOrder reads sp's rest in order up to the end of the first document
// that ends at or after offset stop (to the end if stop < 0), and leaves
// sp after it; done says the input ended, or failed with err.
func (e *Evaluator) inOrder(sp *splitter, name string, stop int64, docs int) (done bool, err error) {
	r := NewReader(sp.rest(), name)
	r.base, r.lines, r.docs = sp.off, sp.lines, e.v.Documents-docs
	stopped, err := e.readUntil(r, stop)
	if !stopped {
		return true, err
	}
	off, line := r.at(r.pos)
	sp.off, sp.lines = off, line-1
	sp.carry = append(sp.buffer(), r.buf[r.pos:]...)
	sp.src, sp.eof, sp.rerr = r.src, r.eof, r.rerr
	return false, nil
}

// start evaluates s on a core of its own, by a spare Evaluator.
func (e *Evaluator) start(s *segment, name string) *segment {
	if n := len(e.par.evaluators); n > 0 {
		s.ev = e.par.evaluators[n-1]
		e.par.evaluators = e.par.evaluators[:n-1]
		s.ev.v = Verdict{totalsOnly: e.opts.TotalsOnly}
	} else {
		s.ev = NewEvaluator(e.opts)
		s.ev.noSpans = e.noSpans
	}
	s.done = make(chan struct{})
	go func() {
		r := s.reader(name)
		r.docs = 1 // a segment without documents is fine: the input is checked whole
		s.err = s.ev.read(r)
		s.cut = r.cut
		close(s.done)
	}()
	return s
}
