package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completion writes a script for each of the three shells the packages
// ship, refuses others, and the script's back end completes the tree.
func TestCompletion(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string // in stdout
	}{
		{[]string{"completion", "bash"}, 0, "__start_saltmail"},
		{[]string{"completion", "zsh"}, 0, "#compdef saltmail"},
		{[]string{"completion", "fish"}, 0, "complete -c saltmail"},
		{[]string{"completion", "powershell"}, 2, ""},
		{[]string{"completion"}, 2, ""},
		// what the scripts ask saltmail itself
		{[]string{"__complete", "ver"}, 0, "version\t"},
		{[]string{"__complete", "render", "--form"}, 0, "--format\t"},
		{[]string{"__complete", "render", "--format", ""}, 0, "text\nhtml\neml\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errb := run(t, "", c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, stdout %.200q, stderr %q", code, out, errb)
			}
		})
	}
}

// The bash script is valid bash (zsh and fish, when installed, check
// theirs too).
func TestCompletionScriptsParse(t *testing.T) {
	for _, sh := range []struct{ name, check string }{{"bash", "-n"}, {"zsh", "-n"}, {"fish", "--no-execute"}} {
		path, err := exec.LookPath(sh.name)
		if err != nil {
			continue
		}
		code, out, _ := run(t, "", "completion", sh.name)
		script := filepath.Join(t.TempDir(), "saltmail."+sh.name)
		if code != 0 || os.WriteFile(script, []byte(out), 0o600) != nil {
			t.Fatalf("%s: exit %d", sh.name, code)
		}
		if msg, err := exec.Command(path, sh.check, script).CombinedOutput(); err != nil {
			t.Errorf("%s %s: %v\n%s", sh.name, sh.check, err, msg)
		}
	}
}
