// Package filter turns the JSON that Salt prints for a job into a typed
// verdict: which minions failed, changed, are pending or in error, and
// which of their states did so.
//
// It is pure: bytes come in through an io.Reader the caller owns, a
// Verdict comes out. It never opens files, reads the clock, the
// environment or the process's settings (how many cores to read on comes
// in as Options.Procs), and keeps no package-level state, so every
// result is reproducible from its input alone.
//
// Reading JSON is not its business: internal/jsonstream validates the
// stream, splits it into documents and members (one huge --static
// document is held one minion at a time, never whole), reads it on every
// core, and says where a fault is. This package judges what Salt said: a
// document's shape, each minion's return, each state's outcome. It sees
// decoded keys and raw values only, never offsets; forks of its judge
// hear the segments of a stream read on several cores, and their
// verdicts are merged in input order (Verdict.merge).
package filter
