package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// The release's -X values win; the toolchain's stamps fill in the rest.
func TestDescribeBuild(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-25T10:15:02Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	cases := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		ok                    bool
		want                  buildInfo
	}{
		{"release build (-X)", "v1.2.0", "feedbeef", "2026-12-01T00:00:00Z", stamped, true,
			buildInfo{Version: "1.2.0", Commit: "feedbeef", Date: "2026-12-01T00:00:00Z", GoVersion: "go1.99.1"}},
		{"go build in a checkout", "", "", "", stamped, true,
			buildInfo{Version: "dev", Commit: "0123abcd", Date: "2026-11-25T10:15:02Z", Modified: true, GoVersion: "go1.99.1"}},
		{"go install ...@v1.2.0", "", "", "", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.2.0"}}, true,
			buildInfo{Version: "1.2.0", GoVersion: "go1.99.1"}},
		{"no build info", "", "", "", nil, false, buildInfo{Version: "dev"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := describeBuild(c.version, c.commit, c.date, c.bi, c.ok)
			got.OSArch = ""
			if c.want.GoVersion == "" {
				got.GoVersion = ""
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// `saltmail version` is a command (it was taken for a FILE, "at least
// one recipient is needed"), --version says the same, ./version is
// still a file, and a slip still gets its suggestion.
func TestVersionCommand(t *testing.T) {
	saved := readBuildInfo
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.99.1", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}}}, true
	}
	defer func() { readBuildInfo = saved }()
	want := "saltmail version dev\n  commit:     0123abcd\n  built:      unknown\n  go version: go1.99.1\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errb := run(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "platform:   ") || errb != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errb)
		}
	}
	if code, _, errb := run(t, "", "versoin"); code != 2 || !strings.Contains(errb, `(did you mean version?)`) {
		t.Errorf("versoin: exit %d, stderr %q", code, errb)
	}
	if code, _, errb := run(t, "", "version", "x"); code != 2 || !strings.Contains(errb, "unknown command") && !strings.Contains(errb, "accepts 0 arg") {
		t.Errorf("version x: exit %d, stderr %q", code, errb)
	}
	chdir(t, t.TempDir())
	if code, _, errb := run(t, "", "render", "--to", "ops@example.com", "./version"); code != 3 || !strings.Contains(errb, "./version: no such file") {
		t.Errorf("./version: exit %d, stderr %q", code, errb)
	}
}

// The -X paths the release script passes reach `saltmail version`.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "saltmail")
	const pkg = "github.com/saltmail/saltmail/cmd"
	ldflags := "-X " + pkg + ".Version=9.8.7 -X " + pkg + ".Commit=cafe1234 -X " + pkg + ".Date=2026-12-24T00:00:00Z"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"saltmail version 9.8.7\n", "commit:     cafe1234\n", "built:      2026-12-24T00:00:00Z\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
