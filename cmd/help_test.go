package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Each command's --help shows its flags under the group headings, a
// setting's flag under its settings group, and points to the README.
func TestHelpGroupsFlags(t *testing.T) {
	cases := []struct {
		args    []string
		headers []string // in this order
		under   map[string]string
		readme  string
	}{
		{[]string{"--help"}, []string{"General flags:", "Input flags:", "Mail flags:", "Delivery flags:", "Noise flags:"},
			map[string]string{"--dry-run": "General", "--config": "General", "--state-funs": "Input", "--to": "Mail", "--on": "Mail", "--smtp-host": "Delivery", "--spool-dir": "Delivery", "--ignore": "Noise", "--repeat-interval": "Noise"},
			"Configuration"},
		{[]string{"help", "render"}, []string{"General flags:", "Input flags:", "Mail flags:", "Noise flags:"},
			map[string]string{"--format": "General", "--subject": "Mail", "--state-dir": "Noise"}, "The mail: `saltmail render`"},
		{[]string{"check", "-h"}, []string{"General flags:", "Input flags:", "Noise flags:"},
			map[string]string{"--output": "General", "--ignore-changes": "Noise"}, "`saltmail check`"},
		{[]string{"run", "--help"}, []string{"General flags:", "Input flags:", "Mail flags:", "Delivery flags:", "Noise flags:"},
			map[string]string{"--timeout": "General", "--dry-run": "General", "--retry-attempts": "Delivery"}, "Three ways to use it"},
		{[]string{"watch", "--help"}, []string{"General flags:", "Watch flags:"},
			map[string]string{"--job-timeout": "Watch"}, "`saltmail watch`: every job whole"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, _ := run(t, "", c.args...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			at := 0
			for _, h := range c.headers {
				i := strings.Index(out[at:], "\n"+h+"\n")
				if i < 0 {
					t.Fatalf("no %q after byte %d:\n%s", h, at, out)
				}
				at += i + 1
			}
			for flag, group := range c.under {
				if got := headingOf(out, flag); got != group {
					t.Errorf("%s under %q, want %q", flag, got, group)
				}
			}
			if !strings.Contains(out, "More in the README") || !strings.Contains(out, "\n  "+c.readme+"\n") {
				t.Errorf("no pointer to the README section %q:\n%s", c.readme, out)
			}
			if strings.Contains(out, "\nFlags:\n") {
				t.Error("an ungrouped Flags: list is left")
			}
		})
	}
}

// headingOf is the group heading above the flag's line in a help text.
func headingOf(help, flag string) string {
	heading := ""
	line := regexp.MustCompile(`^\s+(-\w, )?` + regexp.QuoteMeta(flag) + `[ \[]`)
	for _, l := range strings.Split(help, "\n") {
		if strings.HasSuffix(l, " flags:") && !strings.HasPrefix(l, " ") {
			heading = strings.TrimSuffix(l, " flags:")
		}
		if line.MatchString(l) {
			return heading
		}
	}
	return ""
}

// `saltmail help` and --help list every command with one line each.
func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}} {
		code, out, _ := run(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, want := range []string{
			"\n  check       Print a monitoring-plugin verdict",
			"\n  render      Print the mail saltmail would send",
			"\n  run         ", "\n  flush       ", "\n  test-mail   ", "\n  watch       ",
			"\n  version     Print saltmail's version",
			"\n  completion  Print the shell completion script",
			`Use "saltmail help COMMAND"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%v lacks %q", args, want)
			}
		}
		if strings.Contains(out, "__man") {
			t.Errorf("%v lists the hidden __man", args)
		}
	}
}

// Every README section --help and the man pages point to is a heading
// of the README.
func TestHelpSectionsExist(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, s := range commandSections {
		named = append(named, s...)
	}
	for _, g := range flagGroups {
		if g.section != "" {
			named = append(named, g.section)
		}
	}
	for _, s := range named {
		if !regexp.MustCompile(`(?m)^##+ ` + regexp.QuoteMeta(s) + `$`).Match(readme) {
			t.Errorf("no README section %q", s)
		}
	}
}
