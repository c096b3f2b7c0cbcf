package filter

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"

	"github.com/tidwall/gjson"
)

// errorKey remembers a minion-level error beside its states.
const errorKey = "!error"

// Remembered is what saltmail last reported of one state (or of a
// minion's error): the outcome, a fingerprint of its comment and
// changes, and when.
type Remembered struct {
	Outcome     Outcome   `json:"outcome"`
	Fingerprint string    `json:"fingerprint"`
	First       time.Time `json:"first"`  // when it was first reported like this
	Mailed      time.Time `json:"mailed"` // when it was last mailed
	ID          string    `json:"id,omitempty"`
	Function    string    `json:"function,omitempty"`
	Comment     string    `json:"comment,omitempty"`
}

// Memory is what was reported of one minion, by state key.
type Memory map[string]Remembered

// Policy says what is not mailed again.
type Policy struct {
	// RepeatInterval: an identical failure (or error) reported less
	// than this long ago is not mailed again; 0 mails every time.
	RepeatInterval time.Duration
	// SendResolved: report failures that succeed again.
	SendResolved bool
	// SuppressChanges: identical changes are repeats too.
	SuppressChanges bool
}

// Resolved is a failure that succeeds again.
type Resolved struct {
	Minion, Key string
	Was         Remembered
	Now         Outcome // Succeeded or Changed; an error's resolution: the minion returned states
}

// Suppress decides what of a verdict is news given what was reported
// before: prev is called for each minion. It returns the verdict to
// mail (repeats left out of each minion's states; minions with nothing
// new left out, and named in Repeated), the resolved failures, and the
// memory to keep for each minion it saw. It changes nothing it is given.
func Suppress(v *Verdict, prev func(minion string) Memory, now time.Time, p Policy) (*Verdict, []Resolved, map[string]Memory) {
	out := &Verdict{InputError: v.InputError, Documents: v.Documents}
	next := map[string]Memory{}
	var resolved []Resolved
	for _, m := range v.Results {
		mem, ok := next[m.ID]
		if !ok {
			mem = Memory{}
			for k, r := range prev(m.ID) {
				mem[k] = r
			}
		}
		kept := m
		kept.States = nil
		for _, s := range m.States {
			fp := fingerprint(s.Comment, s.Changes)
			r, had := mem[s.Key]
			same := had && r.Outcome == s.Outcome && r.Fingerprint == fp
			if had && r.Outcome == Failed && s.Outcome == Changed && p.SendResolved {
				resolved = append(resolved, Resolved{Minion: m.ID, Key: s.Key, Was: r, Now: s.Outcome})
			}
			remember := s.Outcome == Failed || p.SuppressChanges
			suppressible := s.Outcome == Failed || p.SuppressChanges
			if same && suppressible && p.RepeatInterval > 0 && now.Sub(r.Mailed) < p.RepeatInterval {
				kept.Repeats++
				continue
			}
			kept.States = append(kept.States, s)
			switch {
			case remember && same:
				r.Mailed = now
				mem[s.Key] = r
			case remember:
				mem[s.Key] = Remembered{Outcome: s.Outcome, Fingerprint: fp, First: now, Mailed: now, ID: s.ID, Function: s.Function, Comment: clip(s.Comment)}
			case had && r.Outcome == Failed && s.Outcome == Pending:
				// a test run says nothing of whether the failure is over
			default:
				delete(mem, s.Key)
			}
		}
		resolveSucceeded(&m, mem, p, &resolved)
		kept = suppressError(kept, mem, now, p, &resolved)
		next[m.ID] = mem
		if len(kept.States) == 0 && (kept.ErrorKind == NoError || kept.ErrorRepeated) && (kept.Repeats > 0 || m.Status == OK) {
			if kept.Repeats > 0 {
				out.Repeated = append(out.Repeated, m.ID)
			}
			if m.Status != OK {
				continue // nothing new to say of it
			}
		}
		out.add(kept)
	}
	sort.SliceStable(resolved, func(i, j int) bool {
		a, b := resolved[i], resolved[j]
		return a.Minion < b.Minion || (a.Minion == b.Minion && a.Key < b.Key)
	})
	return out, resolved, next
}

// resolveSucceeded resolves the remembered failures whose states
// succeeded in this run (those that changed are among m.States, and
// resolved there).
func resolveSucceeded(m *Minion, mem Memory, p Policy, resolved *[]Resolved) {
	var ok map[uint64]bool
	for key, r := range mem {
		if r.Outcome != Failed || key == errorKey {
			continue
		}
		if ok == nil {
			ok = make(map[uint64]bool, len(m.succeeded))
			for _, h := range m.succeeded {
				ok[h] = true
			}
		}
		if !ok[keyPrint(key)] {
			continue
		}
		if p.SendResolved {
			*resolved = append(*resolved, Resolved{Minion: m.ID, Key: key, Was: r, Now: Succeeded})
		}
		delete(mem, key)
	}
}

// keyPrint is a state key's 64-bit FNV-1a hash. Two keys of one minion
// share it with odds of 1 in 2^64: a failure could then be taken for
// resolved by another state's success.
func keyPrint[T ~string | ~[]byte](key T) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

// suppressError applies the policy to a minion-level error.
func suppressError(m Minion, mem Memory, now time.Time, p Policy, resolved *[]Resolved) Minion {
	r, had := mem[errorKey]
	if m.ErrorKind == NoError {
		if had && m.Counts.Total > 0 {
			if p.SendResolved {
				*resolved = append(*resolved, Resolved{Minion: m.ID, Key: errorKey, Was: r, Now: Succeeded})
			}
			delete(mem, errorKey)
		}
		return m
	}
	fp := fingerprint(m.Error, nil)
	if had && r.Fingerprint == fp && p.RepeatInterval > 0 && now.Sub(r.Mailed) < p.RepeatInterval {
		m.ErrorRepeated = true
		m.Repeats++
		return m
	}
	first := now
	if had && r.Fingerprint == fp {
		first = r.First
	}
	mem[errorKey] = Remembered{Outcome: Failed, Fingerprint: fp, First: first, Mailed: now, Comment: clip(m.Error)}
	return m
}

// fingerprint identifies a report by its comment and changes, without
// the pid a cmd.run reports anew on every run.
func fingerprint(comment string, changes []byte) string {
	h := sha256.New()
	h.Write([]byte(comment))
	h.Write([]byte{0})
	ch := gjson.ParseBytes(changes)
	if ch.IsObject() {
		ch.ForEach(func(k, v gjson.Result) bool {
			if k.Str != "pid" {
				h.Write([]byte(k.Raw))
				h.Write([]byte(v.Raw))
			}
			return true
		})
	} else {
		h.Write(changes)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
