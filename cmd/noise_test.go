package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/saltmail/saltmail/deliver"
	"github.com/saltmail/saltmail/deliver/smtptest"
	"github.com/saltmail/saltmail/filter"
)

// TestMain lets a test run this binary as saltmail itself, for tests
// that need many real processes.
func TestMain(m *testing.M) {
	if args := os.Getenv("SALTMAIL_AS_MAIN"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		f := &Factory{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Paths: testPaths(os.Getenv("SALTMAIL_TEST_ROOT"))}
		os.Exit(Main(f, argv))
	}
	os.Exit(m.Run())
}

// fixed turns a capture's failures into successes: the same states, run
// again after the admin repaired them.
func fixed(t *testing.T, capture string) string {
	raw, err := os.ReadFile(corpus(capture))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, states := range doc {
		for _, s := range states {
			s["result"] = true
			s["changes"] = map[string]any{}
		}
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

// The same failing run three times, then fixed: mail, nothing, nothing,
// and a mail saying it is resolved.
func TestRepeatScenario(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	spool, state := t.TempDir(), t.TempDir()
	failing, err := os.ReadFile(corpus("local/state.apply.failures.json.out"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := []string{string(failing), string(failing), string(failing), fixed(t, "local/state.apply.failures.json.out")}
	// salt-call's "local", reported under the host name (the test
	// factory's Salt config dir is empty)
	want := []string{"[salt] master1: 5 failed", "", "", "[salt] master1: resolved: 5 states"}
	for i, in := range inputs {
		before := len(s.Messages())
		f, out, errb := fixedFactory(t, in)
		args := append([]string{"--to", "ops@example.com"}, smtpArgs(t, s, spool)...)
		args = append(args, "--state-dir", state)
		if code := Main(f, args); code != 0 || out.Len() != 0 || errb.Len() != 0 {
			t.Fatalf("run %d: exit %d: %s", i+1, code, errb)
		}
		msgs := s.Messages()[before:]
		switch {
		case want[i] == "" && len(msgs) != 0:
			t.Errorf("run %d: %d mails, want none", i+1, len(msgs))
		case want[i] != "" && (len(msgs) != 1 || !bytes.Contains(msgs[0].Data, []byte("Subject: "+want[i]))):
			t.Errorf("run %d: want %q, got %d mails", i+1, want[i], len(msgs))
		}
	}
	last := s.Messages()[len(s.Messages())-1].Data
	if !bytes.Contains(last, []byte("fail_cmd_false")) && !bytes.Contains(last, []byte("fail_test")) {
		t.Errorf("the resolved mail does not name the states:\n%s", last)
	}
}

// Many saltmail processes at once (one per reactor event) update the
// same minion's memory: none may be lost, no file corrupted.
func TestMemoryConcurrentProcesses(t *testing.T) {
	state := t.TempDir()
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			doc := fmt.Sprintf(`{"fun": "state.apply", "id": "web1", "jid": "2026112510000000%04d", "return": {"cmd_|-step%d_|-step%d_|-run": {"result": false, "changes": {}, "comment": "failure %d", "__id__": "step%d", "__run_num__": 0}}}`, i, i, i, i, i)
			argv, _ := json.Marshal([]string{"--to", "ops@example.com", "--sendmail", "/bin/true", "--spool-dir", filepath.Join(state, "spool"), "--state-dir", state, "--config", "/dev/null"})
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "SALTMAIL_AS_MAIN="+string(argv), "SALTMAIL_TEST_ROOT="+state)
			cmd.Stdin = strings.NewReader(doc)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Sprintf("process %d: %v: %s", i, err, out)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	files, _ := filepath.Glob(filepath.Join(state, "web1-*.json"))
	if len(files) != 1 {
		t.Fatalf("memory files: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	var mem map[string]any
	if err := json.Unmarshal(raw, &mem); err != nil {
		t.Fatalf("corrupt memory: %v", err)
	}
	if len(mem) != n {
		t.Errorf("%d of %d failures remembered: updates were lost", len(mem), n)
	}
}

// A corrupt memory file is reported and taken as empty: the alert goes out.
func TestCorruptMemory(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	state := t.TempDir()
	store := &deliver.Memory[filter.Memory]{Dir: state}
	if err := store.Update([]string{"master1"}, func(func(string) filter.Memory) map[string]filter.Memory {
		return map[string]filter.Memory{"master1": {}}
	}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(state, "master1-*.json"))
	if len(files) != 1 {
		t.Fatalf("memory files %v", files)
	}
	os.WriteFile(files[0], []byte("{not json"), 0o600)
	failing, _ := os.ReadFile(corpus("local/state.apply.failures.json.out"))
	f, _, errb := fixedFactory(t, string(failing))
	args := append(append([]string{"--to", "ops@example.com"}, smtpArgs(t, s, t.TempDir())...), "--state-dir", state)
	if code := Main(f, args); code != 0 || len(s.Messages()) != 1 || !strings.Contains(errb.String(), "unreadable, taken as empty") {
		t.Fatalf("exit %d, %d mails, stderr %q", code, len(s.Messages()), errb)
	}
}

func TestOnAndIgnoreFlags(t *testing.T) {
	cases := []struct {
		args    []string
		capture string
		mails   int
	}{
		{[]string{"--on", "failed,error"}, "local/state.apply.changes.json.out", 0},
		{[]string{"--on", "failed,error"}, "local/state.apply.failures.json.out", 1},
		{[]string{"--ignore-changes", "function=cmd.run", "--ignore-changes", "function=test.*"}, "local/state.apply.changes.json.out", 1},
		{[]string{"--ignore", "function=file.*", "--ignore", "function=cmd.run", "--ignore", "function=test.*"}, "local/state.apply.changes.json.out", 0},
	}
	for _, c := range cases {
		s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
		f, _, errb := fixedFactory(t, "")
		args := append(append([]string{"--to", "ops@example.com", corpus(c.capture)}, smtpArgs(t, s, t.TempDir())...), c.args...)
		if code := Main(f, args); code != 0 || len(s.Messages()) != c.mails {
			t.Errorf("%v on %s: exit %d, %d mails, want %d (%s)", c.args, c.capture, code, len(s.Messages()), c.mails, errb)
		}
	}
	// check's status follows the ignore rules, not on:
	code, out, _ := run(t, "", "check", "--config", "/dev/null", "--ignore", "function=cmd.run", "--ignore", "id=fail_*", corpus("local/state.apply.failures.json.out"))
	if code != 0 || !strings.Contains(out, "SALT OK") {
		t.Errorf("check with ignore rules: exit %d %s", code, out)
	}
	code, _, errb := run(t, "", "check", "--config", "/dev/null", "--ignore", "host=x", corpus("local/state.apply.failures.json.out"))
	if code != 3 || !strings.Contains(errb, `ignore (--ignore, SALTMAIL_IGNORE): rule "host=x": unknown key "host"`) {
		t.Errorf("bad rule: exit %d %s", code, errb)
	}
}

// A run that repeats one failure and adds a new one mails only the new
// one, and says the other was reported already.
func TestRepeatMailSaysWhatIsLeftOut(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	spool, state := t.TempDir(), t.TempDir()
	doc := func(comment string) string {
		return `{"web1": {"cmd_|-a_|-a_|-run": {"result": false, "changes": {}, "comment": "old trouble", "__id__": "a", "__run_num__": 0},` +
			`"cmd_|-b_|-b_|-run": {"result": false, "changes": {}, "comment": "` + comment + `", "__id__": "b", "__run_num__": 1}}}`
	}
	for i, in := range []string{doc("first"), doc("second, different")} {
		f, _, errb := fixedFactory(t, in)
		if code := Main(f, append(append([]string{"--to", "ops@example.com"}, smtpArgs(t, s, spool)...), "--state-dir", state)); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errb)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d mails", len(msgs))
	}
	second := string(msgs[1].Data)
	if !strings.Contains(second, "second, different") || strings.Contains(second, "old trouble") || !strings.Contains(second, "(1 state reported already, not repeated)") {
		t.Errorf("second mail:\n%s", second)
	}
}

// render previews what saltmail would send now: it leaves out what the
// memory says was reported, adds the resolved mail, and changes nothing.
func TestRenderReadsMemoryOnly(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Mode: smtptest.StartTLS})
	state := t.TempDir()
	const capture = "local/state.apply.failures.json.out"
	failing, err := os.ReadFile(corpus(capture))
	if err != nil {
		t.Fatal(err)
	}
	f, _, errb := fixedFactory(t, string(failing))
	args := append([]string{"--to", "ops@example.com"}, smtpArgs(t, s, t.TempDir())...)
	if code := Main(f, append(args, "--state-dir", state)); code != 0 || len(s.Messages()) != 1 {
		t.Fatalf("send: exit %d, %d mails: %s", code, len(s.Messages()), errb)
	}
	before := dirContents(t, state)
	render := func(in string, args ...string) string {
		t.Helper()
		f, out, errb := fixedFactory(t, in)
		if code := Main(f, append([]string{"render", "--to", "ops@example.com"}, args...)); code != 0 {
			t.Fatalf("render %v: exit %d: %s", args, code, errb)
		}
		return out.String()
	}
	if out := render(string(failing), "--state-dir", state); out != "" {
		t.Errorf("render shows a mail send would not send:\n%.300s", out)
	}
	if out := render(fixed(t, capture), "--state-dir", state); !strings.Contains(out, "Subject: [salt] master1: resolved: 5 states") {
		t.Errorf("render does not show the resolved mail:\n%.300s", out)
	}
	if out := render(string(failing), "--state-dir", state, "--repeat-interval", "0"); !strings.Contains(out, "Subject: [salt] master1: 5 failed") {
		t.Errorf("--repeat-interval 0 does not show the whole report:\n%.300s", out)
	}
	if after := dirContents(t, state); !reflect.DeepEqual(before, after) {
		t.Errorf("render changed the state dir:\n%v\n%v", before, after)
	}
	none := filepath.Join(t.TempDir(), "none")
	if out := render(string(failing), "--state-dir", none); !strings.Contains(out, "Subject: [salt] master1: 5 failed") {
		t.Errorf("without a memory render shows no report:\n%.300s", out)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("render created the state dir: %v", err)
	}
}

func dirContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(raw)
	}
	return files
}
