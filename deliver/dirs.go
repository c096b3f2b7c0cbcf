package deliver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DirError is a spool or state dir that another user could write, or
// replace through one of its parents: saltmail refuses it, since whoever
// can plant a file there can make root mail any file, delete alerts or
// forge what was reported.
type DirError struct {
	Dir     string
	Problem string
}

func (e *DirError) Error() string {
	owner := "root"
	if id := os.Geteuid(); id != 0 {
		owner = fmt.Sprintf("root or uid %d", id)
	}
	return fmt.Sprintf("%s: %s: refused, since another user could plant or remove files there (it and its parents must belong to %s and be writable by no one else)", e.Dir, e.Problem, owner)
}

// CheckDir refuses dir when another user could write it: it must be a
// directory owned by root or the running user, writable by neither group
// nor others. A symlink to such a directory is accepted when the link
// itself belongs to root or the running user. Each parent must belong
// to root or the running user too and be writable by no one else, or
// have the sticky bit (as /tmp), so nobody else can rename dir away and
// put their own in its place. A dir that does not exist yet is no
// error: its existing parents are checked, and MakeDir creates it safely.
func CheckDir(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkParents(dir)
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		if err := checkOwner(dir, st); err != nil {
			return err
		}
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if err := CheckDir(real); err != nil {
			return err
		}
		return checkParents(dir)
	case !st.IsDir():
		return &DirError{dir, "not a directory"}
	}
	if err := checkOwner(dir, st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return &DirError{dir, fmt.Sprintf("writable by group or others (mode %04o)", st.Mode().Perm())}
	}
	return checkParents(dir)
}

// checkParents checks each existing parent of dir, following a symlink
// among them to check where it leads too.
func checkParents(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		case st.Mode()&fs.ModeSymlink != 0:
			if err := checkOwner(p, st); err != nil {
				return err
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if err := checkParent(real); err != nil {
				return err
			}
			if err := checkParents(real); err != nil {
				return err
			}
		default:
			if err := checkParent(p); err != nil {
				return err
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// checkParent: a parent may be shared only with the sticky bit, which
// keeps others from renaming what is not theirs.
func checkParent(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if err := checkOwner(p, st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 && st.Mode()&fs.ModeSticky == 0 {
		return &DirError{p, fmt.Sprintf("a parent writable by group or others without the sticky bit (mode %04o)", st.Mode().Perm())}
	}
	return nil
}

func checkOwner(p string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return &DirError{p, "owner unknown"}
	}
	if sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return &DirError{p, fmt.Sprintf("owned by uid %d", sys.Uid)}
	}
	return nil
}

// MakeDir creates dir, and each missing parent, with mode 0700 (whatever
// the umask), after checking where it goes, and checks the result.
func MakeDir(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := CheckDir(dir); err != nil {
		return err
	}
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		_, err := os.Lstat(p)
		if err == nil || p == filepath.Dir(p) {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o700)
		if err == nil {
			err = os.Chmod(missing[i], 0o700)
		}
		if err != nil && !errors.Is(err, fs.ErrExist) { // another process made it: checked below
			return err
		}
	}
	return CheckDir(dir)
}
