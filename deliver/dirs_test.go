package deliver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/deliver"
)

// nobody is a uid that is neither root nor the test's.
const nobody = 65534

// chown gives path to nobody, or skips: only root can.
func chown(t *testing.T, path string, link bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	chown := os.Chown
	if link {
		chown = os.Lchown
	}
	if err := chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// A dir another user could write, or replace through a parent, is
// refused, naming it and what is wrong; a dir not made yet is checked
// through its parents and made by nobody.
func TestCheckDir(t *testing.T) {
	cases := []struct {
		name string
		make func(t *testing.T, root string) string // returns the dir to check
		want string                                 // "" : accepted
	}{
		{"own 0700", func(t *testing.T, r string) string { return mkdir(t, r+"/d", 0o700) }, ""},
		{"own 0755", func(t *testing.T, r string) string { return mkdir(t, r+"/d", 0o755) }, ""},
		{"not made yet", func(t *testing.T, r string) string { return r + "/a/b" }, ""},
		{"group-writable", func(t *testing.T, r string) string { return mkdir(t, r+"/d", 0o770) }, "writable by group or others (mode 0770)"},
		{"world-writable", func(t *testing.T, r string) string { return mkdir(t, r+"/d", 0o707) }, "writable by group or others"},
		{"sticky is no excuse for the dir itself", func(t *testing.T, r string) string { return mkdir(t, r+"/d", os.ModeSticky|0o777) }, "writable by group or others"},
		{"another user's", func(t *testing.T, r string) string { d := mkdir(t, r+"/d", 0o700); chown(t, d, false); return d }, "owned by uid 65534"},
		{"a file", func(t *testing.T, r string) string { os.WriteFile(r+"/f", nil, 0o600); return r + "/f" }, "not a directory"},
		{"own link to a safe dir", func(t *testing.T, r string) string {
			mkdir(t, r+"/real", 0o700)
			os.Symlink(r+"/real", r+"/d")
			return r + "/d"
		}, ""},
		{"link to a shared dir", func(t *testing.T, r string) string {
			mkdir(t, r+"/real", 0o777)
			os.Symlink(r+"/real", r+"/d")
			return r + "/d"
		}, r0("/real") + ": writable by group or others"},
		{"another user's link", func(t *testing.T, r string) string {
			mkdir(t, r+"/real", 0o700)
			os.Symlink(r+"/real", r+"/d")
			chown(t, r+"/d", true)
			return r + "/d"
		}, "owned by uid 65534"},
		{"shared parent", func(t *testing.T, r string) string { mkdir(t, r+"/p", 0o777); return mkdir(t, r+"/p/d", 0o700) }, "a parent writable by group or others without the sticky bit"},
		{"sticky parent", func(t *testing.T, r string) string {
			mkdir(t, r+"/p", os.ModeSticky|0o777)
			return mkdir(t, r+"/p/d", 0o700)
		}, ""},
		{"another user's parent, dir not made yet", func(t *testing.T, r string) string { chown(t, mkdir(t, r+"/p", 0o755), false); return r + "/p/a/b" }, r0("/p") + ": owned by uid 65534"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := c.make(t, root)
			err := deliver.CheckDir(dir)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := strings.ReplaceAll(c.want, "ROOT", root)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("got %v, want %q", err, want)
			}
			// Made inside, a dir is refused as well; a sticky one is
			// a parent as /tmp is.
			if err := deliver.MakeDir(filepath.Join(dir, "x")); (err == nil) != strings.Contains(c.name, "sticky") {
				t.Errorf("MakeDir under it: %v", err)
			}
		})
	}
}

// r0 names a path under the case's temp dir in a wanted message.
func r0(p string) string { return "ROOT" + p }

// MakeDir makes each missing parent 0700 too, whatever the umask, and
// accepts a dir another process made at the same moment.
func TestMakeDir(t *testing.T) {
	root := t.TempDir()
	if err := deliver.MakeDir(filepath.Join(root, "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "a/b", "a/b/c"} {
		if st, err := os.Stat(filepath.Join(root, d)); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", d, st.Mode(), err)
		}
	}
	if err := deliver.MakeDir(filepath.Join(root, "a", "b", "c")); err != nil {
		t.Errorf("again: %v", err)
	}
}
