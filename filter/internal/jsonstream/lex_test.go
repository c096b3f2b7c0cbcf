package jsonstream

import "testing"

// The eight-bytes-at-a-time fast paths must stop exactly where the
// byte-by-byte loops stop: every byte value at every position.
func TestFastPathsStopWhereBytesDo(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 17; pos++ {
			b := []byte(`"abcdefghijklmnopqrstuvwx`)
			b[1+pos] = byte(c)
			want := 1
			for want < len(b) && !strStop[b[want]] {
				want++
			}
			got := 1
			for got+8 <= len(b) && plainWord(leUint64(b[got:])) {
				got += 8
			}
			for got < len(b) && !strStop[b[got]] {
				got++
			}
			if got != want {
				t.Fatalf("byte %#x at %d: fast path stops at %d, bytes at %d", c, pos, got, want)
			}
			sp := []byte("                        x")
			sp[pos] = byte(c)
			slow := 0
			for slow < len(sp) && isSpace(sp[slow]) {
				slow++
			}
			if fast := skipSpace(sp, 0); fast != slow {
				t.Fatalf("space run with %#x at %d: skipSpace %d, bytes %d", c, pos, fast, slow)
			}
		}
	}
}

func leUint64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
