package filter

// Options say where to find a state's fields and which job functions are
// state runs. The zero value is not useful: start from DefaultOptions.
type Options struct {
	// ResultPath, ChangesPath and CommentPath are gjson paths into a
	// state entry, for stores that wrap the fields differently.
	ResultPath  string
	ChangesPath string
	CommentPath string
	// StateFuns lists the job functions whose returns are state runs.
	// Events of any other function are ignored.
	StateFuns []string
	// Rules drop states from the report (ignore) or drop their mere
	// changes (ignore_changes); first match wins.
	Rules []Rule
	// TotalsOnly keeps the counts and drops the details: no Results,
	// no states. Memory then stays flat whatever the input (check's
	// one-line output needs no more).
	TotalsOnly bool
	// KeepSucceeded notes which states succeeded (a fingerprint of each
	// key), so that Suppress can tell a remembered failure resolved
	// without the evaluator ever asking the memory.
	KeepSucceeded bool
	// Procs is how many cores to read on; 0 or 1 reads in order. The
	// caller says (cmd passes runtime.GOMAXPROCS(0)): filter does not
	// ask the process.
	Procs int
	// MaxValueBytes bounds one top-level member of a document (a
	// minion's return): a larger one is an input error at its start,
	// found before it fills the memory. 0: no bound.
	MaxValueBytes int
}

// DefaultStateFuns are Salt's state-run functions: those of the state
// execution module that return state results, and the orchestration
// runner (also as the runner event names it).
var defaultStateFuns = []string{
	"state.apply", "state.highstate", "state.sls", "state.single",
	"state.top", "state.sls_id", "state.low", "state.high", "state.pkg",
	"state.template", "state.template_str", "state.test", "state.request",
	"state.run_request", "state.orchestrate", "state.orch",
	"runner.state.orchestrate", "runner.state.orch",
}

// DefaultOptions returns the paths Salt itself uses and its state-run
// functions.
func DefaultOptions() Options {
	return Options{
		ResultPath:  "result",
		ChangesPath: "changes",
		CommentPath: "comment",
		StateFuns:   append([]string(nil), defaultStateFuns...),
	}
}
