package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Version, Commit and Date are set by the release build:
//
//	go build -ldflags "-X github.com/saltmail/saltmail/cmd.Version=1.2.0
//	  -X github.com/saltmail/saltmail/cmd.Commit=<full sha>
//	  -X github.com/saltmail/saltmail/cmd.Date=<RFC 3339 UTC>"
//
// Left empty (go build, go install), they are read from the module's
// build info instead: the module version that go install ...@vX
// records, and the vcs.* stamps of a build in a git checkout.
var (
	Version string
	Commit  string
	Date    string
)

// readBuildInfo is debug.ReadBuildInfo; tests put a fixed one here.
var readBuildInfo = debug.ReadBuildInfo

// buildInfo is what `saltmail version` says.
type buildInfo struct {
	Version, Commit, Date string
	// Modified: the build's work tree had uncommitted changes.
	Modified          bool
	GoVersion, OSArch string
}

// currentBuild is this binary's build: the -X values first, then what
// the Go toolchain stamped.
func currentBuild() buildInfo {
	bi, ok := readBuildInfo()
	return describeBuild(Version, Commit, Date, bi, ok)
}

// describeBuild merges the release's values with the toolchain's. A
// release's own values win; the vcs stamps fill in the rest, so a
// `go build` in a checkout still names its commit.
func describeBuild(version, commit, date string, bi *debug.BuildInfo, ok bool) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH}
	if ok && bi != nil {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version // go install ...@v1.2.0
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			case s.Key == "vcs.modified" && commit == "":
				b.Modified = s.Value == "true"
			}
		}
	}
	// gh and node_exporter print 1.2.0 for the tag v1.2.0.
	b.Version = strings.TrimPrefix(b.Version, "v")
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// String is the version's text, node_exporter's layout: one line to
// grep, then the details.
func (b buildInfo) String() string {
	commit, date := b.Commit, b.Date
	if commit == "" {
		commit = "unknown"
	}
	if b.Modified {
		commit += " (modified)"
	}
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("saltmail version %s\n  commit:     %s\n  built:      %s\n  go version: %s\n  platform:   %s\n",
		b.Version, commit, date, b.GoVersion, b.OSArch)
}

// VersionOptions are the inputs of `saltmail version`.
type VersionOptions struct {
	IO *Factory
}

// NewCmdVersion builds `saltmail version`.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f}
	return &cobra.Command{
		Use:   "version",
		Short: "Print saltmail's version, commit, build date, Go version and platform",
		Long: `version prints saltmail's version, the commit it was built from (with
"(modified)" when the work tree had uncommitted changes), the build
date, the Go version and the platform. saltmail --version prints the
same. A binary built with go build or go install (no release) is
version "dev" or the module version it was installed at.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			_, err := fmt.Fprint(opts.IO.Stdout, currentBuild())
			return err
		},
	}
}

// setVersionFlag makes --version print what `saltmail version` does.
func setVersionFlag(root *cobra.Command) {
	b := currentBuild()
	root.Version = b.Version
	// cobra's own flag would say "version for saltmail".
	root.Flags().Bool("version", false, "print the version, commit, build date, Go version and platform (as saltmail version)")
	// cobra runs the template; ours is the whole text, its braces quoted.
	root.SetVersionTemplate(strings.ReplaceAll(b.String(), "{{", "{{`{{`}}"))
}
