package cmd

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPaths puts every default file and directory under root, so no
// test reads or writes the host's /etc or /var.
func testPaths(root string) Paths {
	return Paths{
		ConfigFile:    filepath.Join(root, "etc", "saltmail.yaml"),
		SpoolDir:      filepath.Join(root, "var", "spool", "saltmail"),
		UserSpoolDir:  filepath.Join(root, "home", ".local", "state", "saltmail", "spool"),
		SaltConfigDir: filepath.Join(root, "etc", "salt"),
	}
}

// fixedFactory is a Factory with buffers, a fixed clock and host name,
// an empty environment and default paths in a temp dir of the test's.
func fixedFactory(t testing.TB, stdin string) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	return &Factory{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Now:      func() time.Time { return time.Date(2026, 11, 25, 10, 15, 2, 0, time.UTC) },
		Hostname: func() (string, error) { return "master1", nil },
		Getenv:   func(string) string { return "" },
		Paths:    testPaths(t.TempDir()),
	}, &out, &errb
}
