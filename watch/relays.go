package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// On a master of masters (order_masters: True), a job's /new names the
// syndics below it as its minions; each syndic's tally,
// syndic/<id>/<jid>, names the minions below it. The job cache keeps
// both lists: `jobs.lookup_jid <jid> missing=True` names the syndic too,
// as "Minion did not return" (real Salt 3006.29, 3007.16 and 3008.4).
// Live, the tally makes the syndic the job's relay; a job reconciled
// from the cache had its tally on the bus while no watch listened, so
// the syndics the master knows, the ids under its cachedir's syndics/
// (where Salt's own CLI looks: "don't report syndics as unresponsive
// minions"), stand in for it.

// withRelays gives each job found the master's syndics, asked once,
// when the first job is found (a master with nothing to reconcile is
// not asked).
func (r *Reconciler) withRelays(ctx context.Context, found func(Found)) func(Found) {
	var relays []string
	asked := false
	return func(f Found) {
		if !asked {
			relays, asked = r.syndics(ctx), true
		}
		f.Relays = relays
		found(f)
	}
}

// syndics lists the syndics the master has heard from: `salt-run
// cache.list syndics` (the master's cache driver; the default, localfs,
// reads cachedir/syndics). A failure is said, and no relay is known.
func (r *Reconciler) syndics(ctx context.Context) []string {
	out, err := r.Runner.Output(ctx, append(r.Run[:len(r.Run):len(r.Run)], "cache.list", "syndics", "--out=json"))
	if err != nil {
		r.log(err.Error())
		return nil
	}
	var ids []string
	if err := json.Unmarshal(out, &ids); err != nil {
		r.log(fmt.Sprintf("cache.list syndics: not a list of ids (%.80q)", out))
		return nil
	}
	return ids
}

// relayTallies are the tallies a reconciled job missed: one for each
// syndic the lookup names with no return (a syndic that returned is a
// minion of that id as well, and stays one).
func relayTallies(jid string, relays, named []string, rets map[string]json.RawMessage) []Event {
	var out []Event
	for _, id := range relays {
		if _, returned := rets[id]; !returned && slices.Contains(named, id) {
			out = append(out, Event{Tag: "syndic/" + id + "/" + jid, Data: []byte(`{"minions": []}`)})
		}
	}
	return out
}
