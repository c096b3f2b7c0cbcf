package filter

import (
	"encoding/binary"
	"maps"
	"math/bits"
	"sort"
	"time"
)

// ErrorKey remembers a minion-level error beside its states.
const ErrorKey = "!error"

// Remembered is what saltmail last reported of one state (or of a
// minion's error): the outcome, a fingerprint of its comment and
// changes, and when.
type Remembered struct {
	Outcome     Outcome   `json:"outcome"`
	Fingerprint string    `json:"fingerprint"`
	First       time.Time `json:"first"`          // when it was first reported like this
	Mailed      time.Time `json:"mailed"`         // when it was last mailed
	Seen        time.Time `json:"seen,omitempty"` // when it was last seen in a run
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
	// ForgetAfter: what was not seen for this long is forgotten (a
	// state that no longer exists); 0 keeps it for ever.
	ForgetAfter time.Duration
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
// memory to keep for each minion it saw that has one, or had one (an
// empty memory that was empty needs no writing). It changes nothing it
// is given.
func Suppress(v *Verdict, prev func(minion string) Memory, now time.Time, p Policy) (*Verdict, []Resolved, map[string]Memory) {
	out := &Verdict{InputError: v.InputError, Documents: v.Documents, Results: make([]Minion, 0, len(v.Results))}
	for _, e := range v.SaltErrors {
		out.saltError(e)
	}
	next := map[string]Memory{}
	var resolved []Resolved
	for _, m := range v.Results {
		mem, known := next[m.ID]
		if !known {
			if was := prev(m.ID); len(was) > 0 {
				mem, known = maps.Clone(was), true
			}
		}
		notAfter(mem, now)
		kept := suppressStates(m, &mem, now, p, &resolved)
		if !m.Test {
			resolveSucceeded(&m, mem, p, &resolved)
		}
		forget(mem, now, p)
		kept = suppressError(kept, &mem, now, p, &resolved)
		if known || len(mem) > 0 {
			next[m.ID] = mem // a memory that was and is empty needs no writing
		}
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

// suppressStates leaves out of m's states those reported already and
// updates the minion's memory (made on its first entry: most minions
// have nothing to remember).
//
// A test run (test=True) says nothing of whether a failure is over: it
// resolves nothing and forgets nothing.
func suppressStates(m Minion, mem *Memory, now time.Time, p Policy, resolved *[]Resolved) Minion {
	kept := m
	kept.States = nil
	for _, s := range m.States {
		fp := fingerprint(s.Comment, s.Changes)
		r, had := (*mem)[s.Key]
		same := had && r.Outcome == s.Outcome && r.Fingerprint == fp
		if had && r.Outcome == Failed && s.Outcome == Changed && p.SendResolved && !m.Test {
			*resolved = append(*resolved, Resolved{Minion: m.ID, Key: s.Key, Was: r, Now: s.Outcome})
		}
		remember := s.Outcome == Failed || p.SuppressChanges
		if same && remember && p.RepeatInterval > 0 && now.Sub(r.Mailed) < p.RepeatInterval {
			kept.Repeats++
			r.Seen = now
			mem.set(s.Key, r)
			continue
		}
		kept.States = append(kept.States, s)
		switch {
		case remember && same:
			r.Mailed, r.Seen = now, now
			mem.set(s.Key, r)
		case remember:
			mem.set(s.Key, Remembered{Outcome: s.Outcome, Fingerprint: fp, First: now, Mailed: now, Seen: now, ID: s.ID, Function: s.Function, Comment: clip(s.Comment)})
		case had && (m.Test || s.Outcome == Pending):
			r.Seen = now
			mem.set(s.Key, r)
		default:
			delete(*mem, s.Key)
		}
	}
	return kept
}

// notAfter brings times past now back to now: the clock went backwards
// (or a record came from a machine whose clock ran ahead), and an
// identical failure "mailed" in ten years would be suppressed till then.
// The repeat interval runs from now instead, and is stored so.
func notAfter(mem Memory, now time.Time) {
	for k, r := range mem {
		if r.Mailed.After(now) || r.First.After(now) || r.Seen.After(now) {
			r.Mailed, r.First, r.Seen = minTime(r.Mailed, now), minTime(r.First, now), minTime(r.Seen, now)
			mem[k] = r
		}
	}
}

func minTime(t, now time.Time) time.Time {
	if t.After(now) {
		return now
	}
	return t
}

// forget drops what was remembered and not seen for p.ForgetAfter: a
// state that no longer exists would be kept for ever.
func forget(mem Memory, now time.Time, p Policy) {
	if p.ForgetAfter <= 0 {
		return
	}
	for k, r := range mem {
		last := r.Seen
		if last.IsZero() || r.Mailed.After(last) {
			last = r.Mailed
		}
		if now.Sub(last) > p.ForgetAfter {
			delete(mem, k)
		}
	}
}

// set remembers r under key, making the memory on its first entry.
func (m *Memory) set(key string, r Remembered) {
	if *m == nil {
		*m = Memory{}
	}
	(*m)[key] = r
}

// resolveSucceeded resolves the remembered failures whose states
// succeeded in this run (those that changed are among m.States, and
// resolved there).
func resolveSucceeded(m *Minion, mem Memory, p Policy, resolved *[]Resolved) {
	var ok map[uint64]bool
	for key, r := range mem {
		if r.Outcome != Failed || key == ErrorKey {
			continue
		}
		if ok == nil {
			ok = make(map[uint64]bool, len(m.succeeded))
			for _, h := range m.succeeded {
				ok[h] = true
			}
		}
		if !ok[keyPrint([]byte(key))] {
			continue
		}
		if p.SendResolved {
			*resolved = append(*resolved, Resolved{Minion: m.ID, Key: key, Was: r, Now: Succeeded})
		}
		delete(mem, key)
	}
}

// keyPrint is a 64-bit hash of a state key, eight bytes at a time (a
// fleet's run hashes every succeeded state's key). Two keys of one
// minion share it with odds of about 1 in 2^64: a failure could then be
// taken for resolved by another state's success.
func keyPrint(key []byte) uint64 {
	const k1, k2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	h := uint64(len(key)) * k1
	for len(key) >= 8 {
		h = mix(h^binary.LittleEndian.Uint64(key), k2)
		key = key[8:]
	}
	var tail uint64
	for i := len(key) - 1; i >= 0; i-- {
		tail = tail<<8 | uint64(key[i])
	}
	return mix(h^tail, k1)
}

// mix folds the 128-bit product of a and b into 64 bits.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// suppressError applies the policy to a minion-level error.
func suppressError(m Minion, mem *Memory, now time.Time, p Policy, resolved *[]Resolved) Minion {
	r, had := (*mem)[ErrorKey]
	if m.ErrorKind == NoError {
		if had && m.Counts.Total > 0 {
			if p.SendResolved {
				*resolved = append(*resolved, Resolved{Minion: m.ID, Key: ErrorKey, Was: r, Now: Succeeded})
			}
			delete(*mem, ErrorKey)
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
	mem.set(ErrorKey, Remembered{Outcome: Failed, Fingerprint: fp, First: first, Mailed: now, Comment: clip(m.Error)})
	return m
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
