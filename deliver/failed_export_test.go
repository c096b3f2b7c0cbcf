package deliver

import "testing"

// FailFS makes the spool's renames and removes fail from the moment
// broken is true, as a spool turned read-only would, until the test
// ends.
func FailFS(t testing.TB, broken *bool, rename bool, err error) {
	oldRename, oldRemove := fsRename, fsRemove
	t.Cleanup(func() { fsRename, fsRemove = oldRename, oldRemove })
	if rename {
		fsRename = func(from, to string) error {
			if *broken {
				return err
			}
			return oldRename(from, to)
		}
	}
	fsRemove = func(path string) error {
		if *broken {
			return err
		}
		return oldRemove(path)
	}
}
