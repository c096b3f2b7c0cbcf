package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

// CompletionOptions are the inputs of `saltmail completion`.
type CompletionOptions struct {
	IO    *Factory
	Shell string
	// Root is the tree the script completes.
	Root *cobra.Command
}

// shells are those a script is written for: the three gh and the
// distributions' packages ship (bash-completion, zsh's site-functions,
// fish's vendor_completions.d).
var shells = []string{"bash", "zsh", "fish"}

// NewCmdCompletion builds `saltmail completion SHELL`. cobra's own
// completion command is switched off (root.go) for this one: it is part
// of the tree from the start, so man pages and help see it, and it
// offers only the shells the packages install for.
func NewCmdCompletion(f *Factory, runF func(*CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{IO: f}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `completion prints the script that completes saltmail's commands, flags
and files in bash, zsh or fish. The packages install it where each shell
finds it; by hand:

  bash: saltmail completion bash > /etc/bash_completion.d/saltmail
  zsh:  saltmail completion zsh > "${fpath[1]}/_saltmail"
  fish: saltmail completion fish > ~/.config/fish/completions/saltmail.fish

The bash script needs the bash-completion package.`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: shells,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Shell, opts.Root = args[0], c.Root()
			if runF != nil {
				return runF(opts)
			}
			return runCompletion(opts)
		},
	}
}

func runCompletion(opts *CompletionOptions) error {
	w := opts.IO.Stdout
	var err error
	switch opts.Shell {
	case "bash":
		err = opts.Root.GenBashCompletionV2(w, true)
	case "zsh":
		err = opts.Root.GenZshCompletion(w)
	case "fish":
		err = opts.Root.GenFishCompletion(w, true)
	default: // Args let no other through
		return fmt.Errorf("no completion for %q: bash, zsh or fish", opts.Shell)
	}
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("write the completion script: %w", err)}
	}
	return nil
}
