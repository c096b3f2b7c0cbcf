//go:build !linux

package cmd

import (
	"io"
	"os"
)

// isTerminal says whether w is a character device, which off Linux
// (no TCGETS here) is the best guess without a dependency.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
