package deliver

import (
	"strings"
	"testing"
)

// FailFS makes the spool's file operations named in ops ("rename",
// "remove", "write" a new file, "append" to one) fail with err from the moment broken is true, as
// a spool turned read-only would, until the test ends.
func FailFS(t testing.TB, broken *bool, ops string, err error) {
	oldRename, oldRemove, oldWrite, oldAppend := fsRename, fsRemove, fsWrite, fsAppend
	t.Cleanup(func() { fsRename, fsRemove, fsWrite, fsAppend = oldRename, oldRemove, oldWrite, oldAppend })
	if strings.Contains(ops, "rename") {
		fsRename = func(from, to string) error {
			if *broken {
				return err
			}
			return oldRename(from, to)
		}
	}
	if strings.Contains(ops, "remove") {
		fsRemove = func(path string) error {
			if *broken {
				return err
			}
			return oldRemove(path)
		}
	}
	if strings.Contains(ops, "write") {
		fsWrite = func(path string, data []byte) error {
			if *broken {
				return err
			}
			return oldWrite(path, data)
		}
	}
	if strings.Contains(ops, "append") {
		fsAppend = func(path string, data []byte) error {
			if *broken {
				return err
			}
			return oldAppend(path, data)
		}
	}
}
