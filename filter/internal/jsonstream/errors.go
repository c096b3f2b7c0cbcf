package jsonstream

import "fmt"

// InputError says why an input could not be read, and where.
type InputError struct {
	Name   string // the input's name (a file name, or "-" for stdin)
	Offset int64  // byte offset of the fault
	Line   int    // 1-based line of the fault
	Msg    string
	Err    error // the underlying read error, if any
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s: line %d, byte %d: %s", e.Name, e.Line, e.Offset, e.Msg)
}

func (e *InputError) Unwrap() error { return e.Err }
