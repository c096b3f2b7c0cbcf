// Package watch sees every state job of a Salt master whole, from the
// master's event bus: it collects the returns of each job announced by
// salt/job/<jid>/new until every targeted minion has returned or the
// job's deadline passes, and hands one digest per job to its caller,
// naming the minions that did not return. Returns no job announced
// (scheduled runs, salt-call, returns relayed by a syndic) are grouped
// in a time window. What is in flight is kept in a journal on disk, so
// a watcher killed in the middle of a job neither loses its digest nor
// sends it twice. After every start of the event command the job
// cache is asked what the bus did not say (reconcile*.go), and expect
// rules (expect.go) report a minion whose scheduled run stopped coming.
//
// The Tracker is pure: time comes in as values, and it does no I/O.
// The Journal and the Bus are the edge. watch never mails: its caller
// renders and delivers a Digest, and says when it went.
package watch
