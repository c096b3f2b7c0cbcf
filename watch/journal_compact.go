package watch

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// compactAt is the least size a journal is rewritten at: a rewrite
// reads it all, so not for every digest.
const compactAt = 64 << 20

// rewritePattern names a rewrite's temporary file.
const rewritePattern = ".journal-*"

// removeStaleRewrites removes the temporary files of rewrites a crash
// interrupted: the journal they were made from is whole, and each could
// be as big as it.
func removeStaleRewrites(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, rewritePattern))
	for _, p := range stale {
		_ = os.Remove(p) // a symlink is removed, not followed
	}
}

// Compact keeps the journal from growing for ever. When nothing is in
// flight it is emptied (the common case, and cheap). Otherwise, once it
// has grown past compactAt and twice its size after the last rewrite,
// it is rewritten with the records of the jobs in flight and of the
// returns waiting in the open group only: with jobs always in flight
// (a stopped minion holds each for job_timeout) it is never idle.
func (j *Journal) Compact(t *Tracker) error {
	if t.Idle() {
		j.size, j.rewritten = 0, 0
		return j.cut()
	}
	if j.size <= max(j.minRewrite, 2*j.rewritten) {
		return nil
	}
	return j.rewrite(t)
}

// rewrite writes the records t still needs to a new file in the same
// dir, synced, and renames it over the journal: a crash at any point
// leaves the old journal or the new one, both whole.
func (j *Journal) rewrite(t *Tracker) error {
	if j.torn {
		if err := j.cut(); err != nil {
			return err
		}
	}
	dir := filepath.Dir(j.path)
	// CreateTemp makes a new file (O_EXCL: a planted symlink is not
	// followed), 0600.
	tmp, err := os.CreateTemp(dir, rewritePattern)
	if err != nil {
		return fmt.Errorf("watch journal %s: %w", j.path, err)
	}
	n, err := keepInFlight(io.NewSectionReader(j.f, 0, j.size), tmp, t)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.path)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("watch journal %s: compacting: %w", j.path, err)
	}
	j.f.Close()
	j.f, j.size, j.rewritten = tmp, n, n
	j.w.Reset(tmp)
	// The rename is only durable once the dir is synced; until then a
	// crash leaves the old journal, which is whole too.
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	if err != nil {
		return fmt.Errorf("watch journal %s: compacted, syncing its dir: %w", j.path, err)
	}
	return nil
}

// keepInFlight copies from r to w, in their order, the records of the
// jobs t has in flight (from their /new on: a return of the same jid
// before it went to the group) and of the returns in t's open group,
// and returns how many bytes it wrote. Digested records go too: what
// they closed is no longer in the journal.
func keepInFlight(r io.Reader, w io.Writer, t *Tracker) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	started := map[string]bool{}
	var n int64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for sc.Scan() {
		_, tag, _, ok := splitRecord(sc.Bytes())
		if !ok || tag == digestedTag {
			continue
		}
		ti := parseTag(tag)
		job, grouped := t.Holds(ti.jid, ti.minion)
		keep := false
		switch ti.kind {
		case jobNew:
			keep, started[ti.jid] = job, started[ti.jid] || job
		case jobRet:
			keep = (job && started[ti.jid]) || (grouped && !started[ti.jid])
		case jobStart, syndicTally:
			keep = job && started[ti.jid]
		}
		if keep {
			m, _ := bw.Write(sc.Bytes())
			_ = bw.WriteByte('\n') // an error stays in bw for Flush
			n += int64(m) + 1
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return n, bw.Flush()
}
