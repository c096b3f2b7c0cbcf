package filter

import (
	"bytes"

	"github.com/saltmail/saltmail/filter/internal/jsonstream"
	"github.com/tidwall/gjson"
)

// orchestration evaluates `salt-run state.orchestrate` output: the data
// map holds the master's own steps under its id; a salt.state step
// carries the minions' returns in changes.ret.
func (j *judge) orchestration(data jsonstream.Value, jid string, retcode gjson.Result) {
	data.Each(func(k []byte, v jsonstream.Value) bool {
		master, ok := j.minion(string(k), v, false)
		if !ok {
			return true
		}
		master.JID, master.Fun = jid, "state.orchestrate"
		jobFailed(&master, retcode, gjson.Result{})
		j.v.add(master)
		j.stepMinions(v)
		return true
	})
}

// stepMinions adds, as those minions' own, the returns an orchestration's
// salt.state steps carry (changes.ret); and those of the orchestrations
// its steps run themselves (salt.runner state.orchestrate), whose own
// steps the report shows nested in the step, as Salt does.
func (j *judge) stepMinions(steps jsonstream.Value) {
	steps.Each(func(sk []byte, step jsonstream.Value) bool {
		if !bytes.Contains(sk, sepBytes) {
			return true
		}
		ch := gjson.GetBytes(step.Raw, j.opts.ChangesPath)
		if inner := NestedOrchestration(ch); inner.IsObject() {
			inner.ForEach(func(_, innerSteps gjson.Result) bool {
				j.stepMinions(value(innerSteps))
				return true
			})
			return true
		}
		if ch.Get("out").String() != "highstate" {
			return true
		}
		stepJID := gjson.GetBytes(step.Raw, "__jid__").String()
		ch.Get("ret").ForEach(func(mk, mv gjson.Result) bool {
			if m, ok := j.minion(mk.String(), value(mv), true); ok {
				m.JID, m.Fun = stepJID, "state.orchestrate"
				j.v.add(m)
			}
			return true
		})
		return true
	})
}

// NestedOrchestration is the data of the orchestration an orchestration
// step ran itself (salt.runner: state.orchestrate), from the step's
// changes: {"return": {"data": {master: steps}, "outputter": ...}};
// nothing when the step ran none.
func NestedOrchestration(changes gjson.Result) gjson.Result {
	data := changes.Get("return.data")
	if !data.IsObject() || !changes.Get("return.outputter").Exists() && !changes.Get("return.retcode").Exists() {
		return gjson.Result{}
	}
	return data
}
