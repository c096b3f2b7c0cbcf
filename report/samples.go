package report

import "github.com/saltmail/saltmail/filter"

// sampleVerdicts are the shapes a subject template must survive: one
// minion of one job, a digest of several jobs (no common jid or
// function), a minion in error with no states, what Salt said instead
// of returns, unreadable input, and nothing at all. ParseSubject runs
// the template on each.
func sampleVerdicts() []*filter.Verdict {
	failed := filter.State{Key: "cmd_|-deploy_|-/bin/false_|-run", ID: "deploy", Name: "/bin/false", Function: "cmd.run", Outcome: filter.Failed}
	changed := filter.State{Key: "file_|-motd_|-/etc/motd_|-managed", ID: "motd", Name: "/etc/motd", Function: "file.managed", Outcome: filter.Changed}
	web1 := filter.Minion{ID: "web1", JID: "20261125101502123456", Fun: "state.apply", Status: filter.Critical, States: []filter.State{failed, changed}}
	web2 := filter.Minion{ID: "web2", JID: "20261125101733654321", Fun: "state.highstate", Status: filter.Warning, States: []filter.State{changed}}
	down := filter.Minion{ID: "db1", Status: filter.Critical, Error: "Minion did not return. [No response]", ErrorKind: filter.NoReturn, States: []filter.State{}}
	return []*filter.Verdict{
		{Status: filter.Critical, Minions: 1, Results: []filter.Minion{web1}},
		{Status: filter.Critical, Minions: 3, Errors: 1, Results: []filter.Minion{web1, web2, down}},
		{Status: filter.Critical, Minions: 1, Errors: 1, Results: []filter.Minion{down}},
		{Status: filter.Critical, SaltErrors: []string{"No minions matched the target."}, Results: []filter.Minion{}},
		{Status: filter.Unknown, InputError: "stdin:1:2: invalid character", Results: []filter.Minion{}},
		{Status: filter.OK, Results: []filter.Minion{}},
	}
}

// sampleName says which sample a template failed on.
func sampleName(v *filter.Verdict) string {
	switch {
	case len(v.SaltErrors) > 0:
		return "a job Salt answered with an error"
	case v.InputError != "":
		return "unreadable input"
	case len(v.Results) == 0:
		return "an empty report"
	case len(v.Results) > 1:
		return "a digest of several jobs"
	case len(v.Results[0].States) == 0:
		return "a minion in error"
	}
	return "one minion's job"
}
