package cmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ManOptions are the inputs of the hidden `saltmail __man DIR`.
type ManOptions struct {
	IO   *Factory
	Dir  string
	Root *cobra.Command
}

// newCmdMan builds `saltmail __man DIR`, which writes one man page per
// command into DIR for the release build. It is hidden (no user needs
// it) and named so that no file is taken for it. The pages are roff
// written from the command tree here rather than through cobra/doc,
// which would bring go-md2man and a Markdown pass for some 150 lines.
func newCmdMan(f *Factory, runF func(*ManOptions) error) *cobra.Command {
	opts := &ManOptions{IO: f}
	return &cobra.Command{
		Use:    "__man DIR",
		Short:  "Write a man page per command into DIR (for the release build)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Dir, opts.Root = args[0], c.Root()
			if runF != nil {
				return runF(opts)
			}
			return runMan(opts)
		},
	}
}

func runMan(opts *ManOptions) error {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return &exitError{code: 1, err: err}
	}
	b := currentBuild()
	for _, c := range manCommands(opts.Root) {
		path := filepath.Join(opts.Dir, manName(c)+".1")
		if err := os.WriteFile(path, manPage(c, b), 0o644); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	return nil
}

// manCommands are the commands that get a page: all but the hidden and
// cobra's help command (help is what the page is).
func manCommands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			out = append(out, manCommands(c)...)
		}
	}
	return out
}

// manName is saltmail-render for `saltmail render`, as git and gh name
// their pages.
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// manPage is one command's page: name, synopsis, the Long text,
// the flags under the --help headings, and the other pages.
func manPage(c *cobra.Command, b buildInfo) []byte {
	c.InitDefaultHelpFlag()
	var w bytes.Buffer
	date := b.Date
	if len(date) >= 10 {
		date = date[:10] // 2026-11-25 of an RFC 3339 time
	}
	fmt.Fprintf(&w, ".TH %q 1 %q %q \"saltmail manual\"\n", strings.ToUpper(manName(c)), date, "saltmail "+b.Version)
	fmt.Fprintf(&w, ".SH NAME\n%s \\- %s\n", manName(c), roffText(c.Short))
	fmt.Fprintf(&w, ".SH SYNOPSIS\n.B %s\n%s\n", roffText(c.CommandPath()), roffText(strings.TrimPrefix(c.UseLine(), c.CommandPath()+" ")))
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&w, ".br\n.B %s\nCOMMAND [flags]\n", roffText(c.CommandPath()))
	}
	fmt.Fprintf(&w, ".SH DESCRIPTION\n%s", roffParagraphs(c.Long))
	for i, set := range groupedFlags(c) {
		if set != nil {
			fmt.Fprintf(&w, ".SH %s\n", strings.ToUpper(flagGroups[i].title)+" OPTIONS")
			set.VisitAll(func(fl *pflag.Flag) { writeManFlag(&w, fl) })
		}
	}
	if s := readmeSections(c); len(s) > 0 {
		fmt.Fprintf(&w, ".SH DOCUMENTATION\nThe README (in the release tarball, and %s), sections:\n", roffText(readmeURL))
		for _, one := range s {
			fmt.Fprintf(&w, ".br\n%s\n", roffText(one))
		}
	}
	fmt.Fprintf(&w, ".SH SEE ALSO\n%s\n", roffText(seeAlso(c)))
	return w.Bytes()
}

// writeManFlag is one flag as a tagged paragraph: -v, --verbose, then
// its help and default.
func writeManFlag(w *bytes.Buffer, fl *pflag.Flag) {
	name, help := pflag.UnquoteUsage(fl)
	tag := `\fB\-\-` + roffText(fl.Name) + `\fR`
	if fl.Shorthand != "" {
		tag = `\fB\-` + fl.Shorthand + `\fR, ` + tag
	}
	if name != "" && fl.NoOptDefVal == "" {
		tag += ` \fI` + roffText(name) + `\fR`
	}
	if def := fl.DefValue; def != "" && def != "false" && def != "[]" && def != "0" {
		help += " (default " + def + ")"
	}
	fmt.Fprintf(w, ".TP\n%s\n%s\n", tag, roffText(help))
}

// seeAlso names the parent's page and the subcommands'.
func seeAlso(c *cobra.Command) string {
	var pages []string
	if c.HasParent() {
		pages = append(pages, manName(c.Parent())+"(1)")
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			pages = append(pages, manName(sub)+"(1)")
		}
	}
	if len(pages) == 0 {
		return "saltmail(1)"
	}
	return strings.Join(pages, ", ")
}

// roffParagraphs sets text for roff: blank lines start paragraphs,
// lines indented by two (command examples) are kept as they are.
func roffParagraphs(text string) string {
	var w strings.Builder
	w.WriteString(".PP\n")
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			w.WriteString(".PP\n")
		case strings.HasPrefix(line, "  "):
			fmt.Fprintf(&w, ".br\n.nf\n%s\n.fi\n", roffText(line))
		default:
			w.WriteString(roffText(line) + "\n")
		}
	}
	return w.String()
}

// roffText escapes a line for roff: a backslash is \e, and a line that
// starts with a dot or quote would be a request, so \& goes first.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "\n", " ")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
