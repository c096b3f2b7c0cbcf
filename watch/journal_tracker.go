package watch

// Holds says whether a job is in flight under jid, and whether the open
// group holds minion's return of jid: what the journal's compaction
// keeps the records of (the rest was digested, or never mattered).
func (t *Tracker) Holds(jid, minion string) (job, grouped bool) {
	if t.group != nil {
		_, grouped = t.group.seen[jid+"/"+minion]
	}
	return t.jobs[jid] != nil, grouped
}
