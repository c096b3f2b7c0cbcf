package cmd

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// execute runs a command built with its runF seam: flag and argument
// parsing only, nothing read or sent.
func execute(c *cobra.Command, args ...string) error {
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	return c.Execute()
}

// Each command's flags and arguments land in its options as given; the
// run function never sees what cobra refused.
func TestCommandsParseIntoOptions(t *testing.T) {
	f, _, _ := fixedFactory(t, "")
	var check *CheckOptions
	if err := execute(NewCmdCheck(f, func(o *CheckOptions) error { check = o; return nil }), "-o", "json", "--base64", "-v", "a.json", "-"); err != nil {
		t.Fatal(err)
	}
	if check.Output != "json" || !check.Base64 || !check.Verbose || !reflect.DeepEqual(check.Files, []string{"a.json", "-"}) {
		t.Errorf("check options %+v", check)
	}
	check = nil
	if err := execute(NewCmdCheck(f, func(o *CheckOptions) error { check = o; return nil }), "--output", "xml"); err == nil || check != nil {
		t.Errorf("--output xml: err %v, run function called: %v", err, check != nil)
	}

	var render *RenderOptions
	if err := execute(NewCmdRender(f, func(o *RenderOptions) error { render = o; return nil }), "--config", "/x.yaml", "--to", "a@b.c", "f1"); err != nil {
		t.Fatal(err)
	}
	if render.Config.path != "/x.yaml" || !reflect.DeepEqual(render.Files, []string{"f1"}) || render.Config.uses&useTransport != 0 {
		t.Errorf("render options %+v", render)
	}

	var run *RunOptions
	if err := execute(NewCmdRun(f, func(o *RunOptions) error { run = o; return nil }), "--timeout", "5m", "--", "salt", "*", "state.apply", "--out=json"); err != nil {
		t.Fatal(err)
	}
	if run.Timeout != 5*time.Minute || strings.Join(run.Command, " ") != "salt * state.apply --out=json" {
		t.Errorf("run options %+v", run)
	}
	if err := execute(NewCmdRun(f, func(*RunOptions) error { t.Error("run without a command ran"); return nil })); err == nil {
		t.Error("run without a command: no error")
	}

	for name, c := range map[string]*cobra.Command{
		"flush":     NewCmdFlush(f, func(*FlushOptions) error { t.Error("flush ran with an argument"); return nil }),
		"test-mail": NewCmdTestMail(f, func(*TestMailOptions) error { t.Error("test-mail ran with an argument"); return nil }),
	} {
		if err := execute(c, "stray"); err == nil {
			t.Errorf("%s stray: no error", name)
		}
	}
	var flush *FlushOptions
	if err := execute(NewCmdFlush(f, func(o *FlushOptions) error { flush = o; return nil }), "-v", "--spool-dir", "/s"); err != nil || !flush.Verbose {
		t.Errorf("flush: %v %+v", err, flush)
	}
}
