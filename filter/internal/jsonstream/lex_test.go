package jsonstream

import (
	"math/rand"
	"strings"
	"testing"
)

// The eight-bytes-at-a-time fast paths must stop exactly where the
// byte-by-byte loops stop: every byte value at every position, after
// any lead of plain bytes (or of white space).
func TestFastPathsStopWhereBytesDo(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 19; pos++ {
			b := []byte(`"abcdefghijklmnopqrstuvwx`)
			b[1+pos] = byte(c)
			want := 1
			for want < len(b) && !strStop[b[want]] {
				want++
			}
			for from := 1; from <= 1+pos; from++ {
				if got := skipPlain(b, from); got != want {
					t.Fatalf("byte %#x at %d, from %d: skipPlain stops at %d, bytes at %d", c, pos, from, got, want)
				}
			}
			for _, lead := range []string{"", "\n", "\r\n", "\t ", " \n  "} {
				sp := []byte(lead + "                        x")
				sp[len(lead)+pos] = byte(c)
				slow := 0
				for slow < len(sp) && isSpace(sp[slow]) {
					slow++
				}
				if fast := skipSpace(sp, 0); fast != slow {
					t.Fatalf("lead %q, %#x at %d: skipSpace %d, bytes %d", lead, c, pos, fast, slow)
				}
			}
		}
	}
}

// lastDocLine finds what bytes.LastIndex finds.
func TestLastDocLine(t *testing.T) {
	cases := []string{"", "{", "\n", "\n{", "{\n{", "\n{\n{", "a\n{b\n{c", "{{{", "\n\n{{\n", "x{\n", strings.Repeat("  {\n", 50) + "\n{" + strings.Repeat(" {x", 30)}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(300))
		for k := range b {
			b[k] = " \n{x"[rng.Intn(4)]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if got, want := lastDocLine([]byte(c)), strings.LastIndex(c, "\n{"); got != want {
			t.Fatalf("lastDocLine(%q) = %d, want %d", c, got, want)
		}
	}
}
