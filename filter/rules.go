package filter

import (
	"fmt"
	"path"
	"strings"

	"github.com/tidwall/gjson"
)

// RuleKind says what a matching rule does to a state.
type RuleKind int

const (
	// Ignore drops the state from the report entirely.
	Ignore RuleKind = iota
	// IgnoreChanges drops it when it merely changed (or would, in a
	// test run), and still reports it when it fails.
	IgnoreChanges
)

// Rule matches states by shell globs on the minion id, state id, name,
// function (cmd.run) and sls; an empty field matches anything. If, when
// set, is a gjson condition on the state entry (changes.retcode==0).
type Rule struct {
	Kind                            RuleKind
	Minion, ID, Name, Function, SLS string
	If                              string
}

var ruleFields = []string{"minion", "id", "name", "function", "sls", "if"}

// ParseRule reads "key=glob,key=glob,...": keys minion, id, name,
// function, sls and if (a gjson condition, last since it may hold
// commas). Globs are checked here, so a bad one fails before any input.
func ParseRule(kind RuleKind, s string) (Rule, error) {
	r := Rule{Kind: kind}
	rest := strings.TrimSpace(s)
	for rest != "" {
		var part string
		if strings.HasPrefix(rest, "if=") {
			part, rest = rest, ""
		} else if i := strings.IndexByte(rest, ','); i >= 0 {
			part, rest = rest[:i], strings.TrimSpace(rest[i+1:])
		} else {
			part, rest = rest, ""
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return r, fmt.Errorf("rule %q: %q is not key=value (keys: %s)", s, part, strings.Join(ruleFields, ", "))
		}
		switch k {
		case "minion":
			r.Minion = v
		case "id":
			r.ID = v
		case "name":
			r.Name = v
		case "function":
			r.Function = v
		case "sls":
			r.SLS = v
		case "if":
			r.If = v
		default:
			return r, fmt.Errorf("rule %q: unknown key %q (keys: %s)", s, k, strings.Join(ruleFields, ", "))
		}
		if k != "if" {
			if _, err := path.Match(v, ""); err != nil {
				return r, fmt.Errorf("rule %q: bad glob %q: %w", s, v, err)
			}
		}
	}
	if r == (Rule{Kind: kind}) {
		return r, fmt.Errorf("rule %q matches every state; give at least one key", s)
	}
	return r, nil
}

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// stateFacts are what rules look at, computed once per state and only
// when there are rules.
type stateFacts struct {
	minion, id, name, function, sls string
	entry                           []byte
}

func (r *Rule) matches(f *stateFacts) bool {
	if !glob(r.Minion, f.minion) || !glob(r.ID, f.id) || !glob(r.Name, f.name) ||
		!glob(r.Function, f.function) || !glob(r.SLS, f.sls) {
		return false
	}
	if r.If == "" {
		return true
	}
	// gjson queries arrays: wrap the entry in one to ask #(condition).
	return gjson.Get("["+string(f.entry)+"]", "#("+r.If+")").Exists()
}

// ruling applies the rules to a state's outcome: it returns the outcome
// to count, and whether the state was ignored.
func ruling(rules []Rule, f *stateFacts, o Outcome) (Outcome, bool) {
	for i := range rules {
		r := &rules[i]
		if !r.matches(f) {
			continue
		}
		switch {
		case r.Kind == Ignore:
			return Succeeded, true
		case r.Kind == IgnoreChanges && (o == Changed || o == Pending):
			return Succeeded, true
		}
	}
	return o, false
}

// Outcomes is a set of what mails: failed, changed, pending, error.
type Outcomes struct {
	Failed, Changed, Pending, Error bool
}

// AllOutcomes mails on everything, the default.
var AllOutcomes = Outcomes{true, true, true, true}

// ParseOutcomes reads names such as ["failed", "error"].
func ParseOutcomes(names []string) (Outcomes, error) {
	var o Outcomes
	for _, n := range names {
		switch strings.TrimSpace(n) {
		case "failed":
			o.Failed = true
		case "changed":
			o.Changed = true
		case "pending":
			o.Pending = true
		case "error":
			o.Error = true
		default:
			return o, fmt.Errorf("%q is not one of failed, changed, pending, error", n)
		}
	}
	if o == (Outcomes{}) {
		return o, fmt.Errorf("name at least one of failed, changed, pending, error")
	}
	return o, nil
}

// Wants says whether a minion has news in the set: a reported state
// with such an outcome, or an error not reported before.
func (o Outcomes) Wants(m *Minion) bool {
	if o.Error && m.ErrorKind != NoError && !m.ErrorRepeated {
		return true
	}
	for i := range m.States {
		switch m.States[i].Outcome {
		case Failed:
			if o.Failed {
				return true
			}
		case Changed:
			if o.Changed {
				return true
			}
		case Pending:
			if o.Pending {
				return true
			}
		}
	}
	return false
}
