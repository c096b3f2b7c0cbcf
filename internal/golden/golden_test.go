package golden

import "testing"

func TestFirstDiff(t *testing.T) {
	cases := []struct{ want, got, diff string }{
		{"a\nb\nc", "a\nx\nc", "line 2:\n want \"b\"\n  got \"x\""},
		{"a\nb", "a\nb\nc", "line 3:\n want \"(end of file)\"\n  got \"c\""},
		{"a\nb\n", "a\nb", "line 3:\n want \"\"\n  got \"(end of file)\""},
		{"same", "same", "(no line differs)"},
	}
	for _, c := range cases {
		if d := FirstDiff(c.want, c.got); d != c.diff {
			t.Errorf("FirstDiff(%q, %q) = %q, want %q", c.want, c.got, d, c.diff)
		}
	}
}
