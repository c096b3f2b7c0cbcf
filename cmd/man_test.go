package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// `saltmail __man DIR` writes a page for every command of the tree, and
// every flag of the command is on its page, under its group's heading.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	if code, out, errb := run(t, "", "__man", dir); code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	f, _, _ := fixedFactory(t, "")
	root := NewCmdRoot(f)
	var want []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		want = append(want, manName(c)+".1")
		page, err := os.ReadFile(filepath.Join(dir, manName(c)+".1"))
		if err != nil {
			t.Errorf("%q has no page: %v", c.CommandPath(), err)
			return
		}
		checkPage(t, c, string(page))
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				walk(sub)
			}
		}
	}
	walk(root)
	got, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	if len(got) != len(want) || len(want) < 9 {
		t.Errorf("pages %v, want %v", got, want)
	}
}

func checkPage(t *testing.T, c *cobra.Command, page string) {
	t.Helper()
	if !strings.HasPrefix(page, `.TH "`+strings.ToUpper(manName(c))+`" 1 `) || !strings.Contains(page, ".SH SYNOPSIS\n.B "+c.CommandPath()+"\n") {
		t.Errorf("%s: no title or synopsis:\n%.300s", c.CommandPath(), page)
	}
	c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
		if !strings.Contains(page, `\fB\-\-`+fl.Name+`\fR`) {
			t.Errorf("%s: no --%s on its page", c.CommandPath(), fl.Name)
		}
	})
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, ".") && !strings.HasPrefix(line, `.\`) && !manRequest(line) {
			t.Errorf("%s: a text line is read as a request: %q", c.CommandPath(), line)
		}
	}
}

// manRequest: the line is one of the requests the generator writes.
func manRequest(line string) bool {
	for _, r := range []string{".TH ", ".SH ", ".B ", ".PP", ".TP", ".br", ".nf", ".fi"} {
		if strings.HasPrefix(line, r) {
			return true
		}
	}
	return false
}

// Text that roff would read as requests or escapes is quoted.
func TestRoffText(t *testing.T) {
	cases := []struct{ in, want string }{
		{`.nope`, `\&.nope`},
		{`'quote`, `\&'quote`},
		{`a\nb`, `a\enb`},
		{"two\nlines", "two lines"},
	}
	for _, c := range cases {
		if got := roffText(c.in); got != c.want {
			t.Errorf("roffText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
