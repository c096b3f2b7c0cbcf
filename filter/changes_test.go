package filter

import "testing"

// hasChanges is Python's truth of the decoded JSON, as Salt's outputter
// sees a state's changes.
func TestHasChanges(t *testing.T) {
	cases := map[string]bool{
		`{}`: false, `{ }`: false, "{\n}": false, `{"a": 1}`: true,
		`[]`: false, `[ ]`: false, `[0]`: true,
		`""`: false, `"x"`: true, `" "`: true,
		`0`: false, `0.0`: false, `-0`: false, `0e5`: false, `1`: true, `-1.5`: true, `1e999`: true, ` 0 `: false,
		`true`: true, `false`: false, `null`: false, ``: false, `  `: false,
	}
	for raw, want := range cases {
		if got := hasChanges(raw); got != want {
			t.Errorf("hasChanges(%q) = %v, want %v", raw, got, want)
		}
		if got := hasChanges([]byte(raw)); got != want {
			t.Errorf("hasChanges([]byte(%q)) = %v, want %v", raw, got, want)
		}
	}
}
