package filter

import (
	"encoding/json"
	"fmt"
)

// Outcome is what one state did. Each state gets exactly one.
type Outcome int

const (
	Succeeded Outcome = iota // result true, no changes
	Changed                  // result true with non-empty changes
	Pending                  // result null: a test=True run would change it
	Failed                   // result false (or not a boolean)
)

func (o Outcome) String() string {
	switch o {
	case Changed:
		return "changed"
	case Pending:
		return "pending"
	case Failed:
		return "failed"
	}
	return "succeeded"
}

// MarshalText writes the outcome by name in JSON output.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome by name (the state dir's memory).
func (o *Outcome) UnmarshalText(b []byte) error {
	for _, c := range []Outcome{Succeeded, Changed, Pending, Failed} {
		if c.String() == string(b) {
			*o = c
			return nil
		}
	}
	return fmt.Errorf("unknown outcome %q", b)
}

// Status is the monitoring-plugin verdict of a minion or a whole input.
type Status int

const (
	OK       Status = iota // nothing failed, changed or pending
	Warning                // changes or pending states only
	Critical               // a failed state or a minion in error
	Unknown                // the input could not be read
)

func (s Status) String() string {
	return [...]string{"ok", "warning", "critical", "unknown"}[s]
}

// MarshalText writes the status by name in JSON output.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ErrorKind says why a minion is in error.
type ErrorKind int

const (
	NoError     ErrorKind = iota
	NoReturn              // the minion did not answer
	ReturnError           // a string or a list of strings instead of states
	JobError              // the job failed (retcode, success) with no failed state
)

// State is one failed, changed or pending state of a minion.
type State struct {
	Key        string          `json:"key"`
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Function   string          `json:"function"`
	SLS        string          `json:"sls"`
	Outcome    Outcome         `json:"outcome"`
	Result     json.RawMessage `json:"result"`
	Comment    string          `json:"comment"`
	Changes    json.RawMessage `json:"changes"`
	RunNum     int             `json:"run_num"`
	DurationMS float64         `json:"duration_ms"`
	Started    string          `json:"started"`
	// Warnings are the state's own `warnings` list, if any.
	Warnings []string `json:"warnings,omitempty"`
}

// Counts are state counts. Orchestration steps count as the master's
// states; ignored states count among States and Ignored only.
type Counts struct {
	Total   int `json:"states"`
	Failed  int `json:"failed"`
	Changed int `json:"changed"`
	Pending int `json:"pending"`
	Ignored int `json:"ignored"`
}

func (c *Counts) add(o Counts) {
	c.Total += o.Total
	c.Failed += o.Failed
	c.Changed += o.Changed
	c.Pending += o.Pending
	c.Ignored += o.Ignored
}

// Minion is the verdict on one minion's return. In JSON its count of
// states is "states_run", since "states" lists the reported ones.
type Minion struct {
	ID     string `json:"minion"`
	JID    string `json:"jid,omitempty"`
	Fun    string `json:"fun,omitempty"`
	Status Status `json:"status"`
	Counts `json:"-"`
	// Error is the minion-level error text (render errors, "did not
	// return", a failed job without failed states).
	Error     string    `json:"error,omitempty"`
	ErrorKind ErrorKind `json:"-"`
	// ErrorList holds the strings when the return was a list of them
	// (render errors), nil otherwise.
	ErrorList []string `json:"-"`
	// States holds the failed, changed and pending states in run order.
	States []State `json:"states"`
	// RunTimeMS is the run time Salt's summary shows: the durations of
	// the states run one after another, plus the longest of those run in
	// parallel (__parallel__), which ran beside each other.
	RunTimeMS float64 `json:"run_time_ms"`
	// parallelMS is the longest __parallel__ state's duration so far.
	parallelMS float64
	// WithChanges counts states with non-empty changes whatever their
	// result, and Warned those with a warnings list: Salt's summary
	// shows both.
	WithChanges int `json:"-"`
	Warned      int `json:"-"`
	// succeeded holds the key fingerprints of the states that
	// succeeded (Options.KeepSucceeded): not reported, yet a success
	// resolves a remembered failure.
	succeeded []uint64
	// Repeats counts the states (and an error) left out of a mail
	// because they were reported already (see Suppress).
	Repeats int `json:"-"`
	// ErrorRepeated: the minion's error was reported already.
	ErrorRepeated bool `json:"-"`
	// Test: the run was a test (test=True in the job's arguments, or
	// states pending): it proves no failure over.
	Test bool `json:"-"`
}

// Verdict is the result of reading one or more inputs.
type Verdict struct {
	Status Status `json:"status"`
	// Minions counts the minions with a state return or an error.
	Minions int `json:"minions"`
	Counts
	Errors int `json:"errors"`
	// Results holds one entry per minion return, in input order.
	Results []Minion `json:"results"`
	// Repeated names the minions whose news was all reported already
	// (see Suppress); they are not in Results.
	Repeated []string `json:"-"`
	// Documents counts the JSON documents read.
	Documents int `json:"-"`
	// SaltErrors are what Salt said instead of returns: the job could
	// not run (a bare JSON string: "Salt request timed out. The master
	// is not responding. ...") or went nowhere ("No minions matched the
	// target. ..."). Either makes the run critical.
	SaltErrors []string `json:"salt_errors,omitempty"`
	// InputError is the reason the input could not be read, if it could not.
	InputError string `json:"input_error,omitempty"`
	// Warnings name the text lines that were skipped.
	Warnings []string `json:"-"`
	// Notes say which returns were ignored, and why.
	Notes []string `json:"-"`
	// Dropped counts the warnings and notes beyond the kept ones.
	Dropped int `json:"-"`
	// textLines counts the lines that were not JSON, warned of or not.
	textLines int
	// byKind counts the minions in error by kind.
	byKind [JobError + 1]int
	// totalsOnly: Results are not kept (Options.TotalsOnly).
	totalsOnly bool
}

func (v *Verdict) add(m Minion) {
	m.Test = m.Test || m.Pending > 0
	m.Status = OK
	switch {
	case m.Failed > 0 || m.ErrorKind != NoError:
		m.Status = Critical
	case m.Changed > 0 || m.Pending > 0:
		m.Status = Warning
	}
	if m.States == nil {
		m.States = []State{}
	}
	if !v.totalsOnly {
		v.Results = append(v.Results, m)
	}
	v.Minions++
	v.Counts.add(m.Counts)
	v.byKind[m.ErrorKind]++
	if m.ErrorKind != NoError {
		v.Errors++
	}
	if m.Status > v.Status {
		v.Status = m.Status
	}
}

// ErrorCount returns how many minions are in error of the given kind.
func (v *Verdict) ErrorCount(k ErrorKind) int { return v.byKind[k] }

// MarshalJSON writes a minion with its counts beside its fields.
func (m Minion) MarshalJSON() ([]byte, error) {
	type plain Minion // no methods: no recursion
	return json.Marshal(struct {
		plain
		StatesRun int `json:"states_run"`
		Failed    int `json:"failed"`
		Changed   int `json:"changed"`
		Pending   int `json:"pending"`
		Ignored   int `json:"ignored"`
	}{plain(m), m.Counts.Total, m.Failed, m.Changed, m.Pending, m.Ignored})
}

// Single is the verdict of one minion's result alone, for one mail per
// minion; input carries the reason the input was unreadable, if it was.
func Single(m Minion, input string) *Verdict {
	v := &Verdict{InputError: input}
	v.add(m)
	if input != "" {
		v.Status = Unknown
	}
	return v
}

// MarshalJSON writes the verdict with "results" always a list, so that
// `jq '.results[]'` works on a run with no state return too.
func (v Verdict) MarshalJSON() ([]byte, error) {
	type plain Verdict // no methods: no recursion
	p := plain(v)
	if p.Results == nil {
		p.Results = []Minion{}
	}
	return json.Marshal(p)
}
