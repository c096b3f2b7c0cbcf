package cmd

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readmeURL is where the README is read when the tarball's copy is not
// at hand.
const readmeURL = "https://github.com/saltmail/saltmail#readme"

// A flag group is a heading of --help and of the man pages. The setting
// flags take theirs from the settings table's use group, so a new
// setting lands under the right heading by itself; every other flag
// (--config, --verbose, --base64, a command's own) is General.
type flagGroup struct {
	title string
	uses  uses
	// section of the README that tells more, if one does
	section string
}

var flagGroups = []flagGroup{
	{title: "General"},
	{title: "Input", uses: useInput, section: "Inputs"},
	{title: "Mail", uses: useAddresses | useMail, section: "The mail: `saltmail render`"},
	{title: "Delivery", uses: useTransport | useSpool, section: "Sending: `saltmail`, `saltmail flush`, `saltmail test-mail`"},
	{title: "Noise", uses: useRules | useMemory, section: "Noise control"},
	{title: "Watch", uses: useWatch, section: "`saltmail watch`: every job whole"},
}

// commandSections are the README sections about each command; the
// root's name the whole job.
var commandSections = map[string][]string{
	"saltmail":   {"Three ways to use it", "Inputs", "What counts", "Sending: `saltmail`, `saltmail flush`, `saltmail test-mail`", "Configuration", "Noise control", "Troubleshooting"},
	"check":      {"`saltmail check`"},
	"render":     {"The mail: `saltmail render`"},
	"flush":      {"Sending: `saltmail`, `saltmail flush`, `saltmail test-mail`"},
	"test-mail":  {"Sending: `saltmail`, `saltmail flush`, `saltmail test-mail`", "Troubleshooting"},
	"run":        {"Three ways to use it"},
	"watch":      {"`saltmail watch`: every job whole"},
	"completion": {"Version, completion, man pages"},
	"version":    {"Version, completion, man pages"},
}

// groupOf is the heading a flag goes under.
func groupOf(name string) int {
	for _, s := range settings {
		if !s.noFlag && s.flag() == name {
			for i, g := range flagGroups {
				if g.uses&s.use != 0 {
					return i
				}
			}
		}
	}
	return 0
}

// groupedFlags splits a command's flags by heading, in flagGroups'
// order; empty groups are nil.
func groupedFlags(c *cobra.Command) []*pflag.FlagSet {
	sets := make([]*pflag.FlagSet, len(flagGroups))
	c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		i := groupOf(fl.Name)
		if sets[i] == nil {
			sets[i] = pflag.NewFlagSet(flagGroups[i].title, pflag.ContinueOnError)
			sets[i].SortFlags = c.LocalFlags().SortFlags
		}
		sets[i].AddFlag(fl)
	})
	return sets
}

// usage is every command's usage text (cobra's help prints the Long
// text, then this): the usage lines, the commands with one line each,
// the flags under their headings, and where the README tells more.
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	fmt.Fprintf(w, "Usage:\n  %s\n", c.UseLine())
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "  %s COMMAND [flags]\n\nCommands:\n", c.CommandPath())
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-*s %s\n", c.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	for i, set := range groupedFlags(c) {
		if set != nil {
			fmt.Fprintf(w, "\n%s flags:\n%s", flagGroups[i].title, set.FlagUsages())
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nUse \"%s help COMMAND\" (or COMMAND --help) for a command's own flags.\n", c.CommandPath())
	}
	writeReadmePointer(w, c)
	return nil
}

// writeReadmePointer names the README sections about the command and
// its flag groups.
func writeReadmePointer(w io.Writer, c *cobra.Command) {
	sections := readmeSections(c)
	if len(sections) == 0 {
		return
	}
	fmt.Fprintf(w, "\nMore in the README (in the release tarball, and %s), sections:\n", readmeURL)
	for _, s := range sections {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

// readmeSections are the command's own sections, then those of the
// flag groups it has, each once.
func readmeSections(c *cobra.Command) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range commandSections[c.Name()] {
		add(s)
	}
	for i, set := range groupedFlags(c) {
		if set != nil {
			add(flagGroups[i].section)
		}
	}
	return out
}

// setHelp gives the tree its grouped usage text. cobra's help command
// and -h print the Long text, then this.
func setHelp(root *cobra.Command) {
	root.SetUsageFunc(usage)
}
