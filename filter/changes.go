package filter

import (
	"strconv"
	"strings"
)

// hasChanges is Salt's rule for whether a state changed something, the
// one saltmail uses everywhere: its changes are true as Python sees the
// decoded JSON (salt/output/highstate.py: `if not changes`). So a
// non-empty object, array or string, a non-zero number and true count;
// {}, [], "", 0, false, null and a missing field do not. (Salt shows a
// truthy value that is not a dict as "Invalid Changes data".)
func hasChanges[T ~string | ~[]byte](raw T) bool {
	i := 0
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i >= len(raw) {
		return false
	}
	switch c := raw[i]; c {
	case '{', '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		for i++; i < len(raw) && isSpace(raw[i]); i++ {
		}
		return i < len(raw) && raw[i] != close
	case '"':
		return i+1 < len(raw) && raw[i+1] != '"'
	case 't':
		return true
	case 'f', 'n':
		return false
	}
	// A number: true unless zero (1e999 is infinite, and true).
	end := len(raw)
	for end > i && isSpace(raw[end-1]) {
		end--
	}
	f, err := strconv.ParseFloat(string(raw[i:end]), 64)
	return err != nil || f != 0
}

// Trimmed is what Salt puts in place of a value too large for
// max_event_size (1 MiB by default): the master, the CLI, the events and
// the job cache all see this string instead.
const Trimmed = "VALUE_TRIMMED"

// Trimmed says whether Salt trimmed a value of the state: its comment,
// or a value in its changes.
func (s *State) Trimmed() bool {
	return s.Comment == Trimmed || strings.Contains(string(s.Changes), `"`+Trimmed+`"`)
}

// HasChanges says whether Salt counts the state as having changed
// something (see hasChanges): its outputter then shows the changes.
func (s *State) HasChanges() bool { return hasChanges(s.Changes) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
