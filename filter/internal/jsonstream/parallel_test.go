package jsonstream

import (
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"github.com/saltmail/saltmail/filter/internal/streamtest"
	"github.com/saltmail/saltmail/internal/golden"
)

// inOrderAndCut reads in in order and cut into segments on three
// workers, holding documents and releasing them, and fails unless all
// hear the same and fail alike, at the same line and byte.
func inOrderAndCut(t *testing.T, in []byte, src func([]byte) io.Reader) {
	t.Helper()
	want, wantErr := record(t, in, src, 1, 0)
	for _, release := range []int{0, 1, 2} {
		got, gotErr := record(t, in, src, 3, release)
		sameReading(t, "in order / cut", want, wantErr, got, gotErr)
	}
}

func TestCutReadsLikeInOrder(t *testing.T) {
	var all []byte
	for _, path := range golden.Captures(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inOrderAndCut(t, b, whole)
		all = append(append(all, b...), '\n')
	}
	inOrderAndCut(t, all, halves)
}

func TestCutReadsHardInputLikeInOrder(t *testing.T) {
	for name, in := range streamtest.Hard() {
		t.Run(name, func(t *testing.T) {
			for _, src := range []func([]byte) io.Reader{whole, halves, oneByte} {
				inOrderAndCut(t, []byte(in), src)
			}
		})
	}
	t.Run("a read error late", func(t *testing.T) {
		for _, in := range []string{streamtest.Fleet(), streamtest.Hard()["wrong cuts"], streamtest.Fleet()[:100]} {
			inOrderAndCut(t, []byte(in), func(b []byte) io.Reader {
				return io.MultiReader(whole(b), iotest.ErrReader(errors.New("disk on fire")))
			})
		}
	})
}

// Holding a document keeps it whole while the buffer moves under it
// (one byte per read), and the reads' sizes change nothing.
func TestReadsDoNotMatter(t *testing.T) {
	for _, path := range golden.Captures(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := record(t, b, whole, 1, 0)
		got, gotErr := record(t, b, func(b []byte) io.Reader { return iotest.OneByteReader(whole(b)) }, 1, 0)
		sameReading(t, path, want, wantErr, got, gotErr)
	}
}
