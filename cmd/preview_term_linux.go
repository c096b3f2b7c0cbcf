package cmd

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// isTerminal says whether w is a terminal: the TCGETS ioctl that
// isatty(3) asks succeeds only on one. A file or pipe fails it, and so
// does /dev/null, which a mode check would take for a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
