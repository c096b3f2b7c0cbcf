// Package filter turns the JSON that Salt prints for a job into a typed
// verdict: which minions failed, changed, are pending or in error, and
// which of their states did so.
//
// It is pure: bytes come in through an io.Reader the caller owns, a
// Verdict comes out. It never opens files, reads the clock or the
// environment, and keeps no package-level state, so every result is
// reproducible from its input alone.
//
// The Reader splits a stream of JSON documents into top-level members
// while it reads, so a single huge document (salt --static over a whole
// fleet) is held one minion at a time, never whole. A stream of many
// documents is cut into segments that are evaluated on every core and
// merged in input order, with the verdict and errors of one Reader
// (see parallel.go).
package filter
