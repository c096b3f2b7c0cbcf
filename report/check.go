package report

import (
	"fmt"
	"strings"

	"github.com/saltmail/saltmail/filter"
)

// CheckLine is the one-line monitoring-plugin verdict, e.g.
//
//	SALT CRITICAL - 2 failed, 3 changed, 0 pending on 5 minions (1 did not return) | minions=5 states=812 failed=2 changed=3 pending=0 errors=1
//
// The perfdata after "|" keeps this order, so scripts can read it.
func CheckLine(v *filter.Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SALT %s - ", strings.ToUpper(v.Status.String()))
	if len(v.SaltErrors) > 0 {
		fmt.Fprintf(&b, "salt said %q; ", clean(v.SaltErrors[0], maxHeaderValue))
	}
	if v.InputError != "" {
		fmt.Fprintf(&b, "input unreadable (%s); ", v.InputError)
	}
	fmt.Fprintf(&b, "%d failed, %d changed, %d pending on %s", v.Failed, v.Changed, v.Pending, plural(v.Minions, "minion"))
	if errs := errorKinds(v); errs != "" {
		fmt.Fprintf(&b, " (%s)", errs)
	}
	fmt.Fprintf(&b, " | minions=%d states=%d failed=%d changed=%d pending=%d errors=%d",
		v.Minions, v.Total, v.Failed, v.Changed, v.Pending, v.Errors)
	return b.String()
}

// errorKinds says how many minions are in error, by kind.
func errorKinds(v *filter.Verdict) string {
	var parts []string
	if n := v.ErrorCount(filter.NoReturn); n > 0 {
		parts = append(parts, fmt.Sprintf("%d did not return", n))
	}
	if n := v.ErrorCount(filter.ReturnError); n > 0 {
		parts = append(parts, fmt.Sprintf("%d with errors", n))
	}
	if n := v.ErrorCount(filter.JobError); n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed jobs", n))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
