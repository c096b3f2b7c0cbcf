// Package report turns a filter.Verdict into what people read: the
// monitoring line of `saltmail check` and the alert mail (subject,
// plain text laid out like Salt's highstate output, and HTML).
//
// It is pure: time, host names and message ids come in as values, so
// the same verdict always renders to the same bytes.
package report
