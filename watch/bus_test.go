package watch

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The event command is started again when it exits, waiting longer each
// time; lines come whole and in order; a line too long to be an event
// is dropped whole, and the next line is read as it is.
func TestBusRestartsAndSplitsLines(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lines []string
	var waits []time.Duration
	starts := 0
	b := &Bus{
		Command: []string{"sh", "-c", `printf 'a\tb\n'; head -c 70000000 /dev/zero | tr '\0' x; printf '\nc\td\n'`},
		Log:     func(string) {},
		Started: func(n int) { starts = n },
		Sleep: func(_ context.Context, d time.Duration) {
			waits = append(waits, d)
			if len(waits) == 3 {
				cancel()
			}
		},
	}
	if err := b.Run(ctx, func(l []byte) { lines = append(lines, string(l)) }); err != nil {
		t.Fatal(err)
	}
	if starts != 3 {
		t.Errorf("%d starts, want 3", starts)
	}
	if got := strings.Join(lines, ""); got != strings.Repeat("a\tb\nc\td\n", 3) {
		t.Errorf("lines: %.200q", got)
	}
	if len(waits) != 3 || waits[0] != time.Second || waits[1] != 2*time.Second || waits[2] != 4*time.Second {
		t.Errorf("waits %v", waits)
	}
}

// Lines that are not events (a traceback the runner prints on SIGTERM)
// are skipped.
func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		in  string
		tag string
		ok  bool
	}{
		{"salt/job/20261130154129421938/new\t{\"fun\": \"state.apply\"}\n", "salt/job/20261130154129421938/new", true},
		{"Traceback (most recent call last):\n", "", false},
		{"  File \"/usr/lib/python3/salt/x.py\", line 1\tin <module>\n", "", false},
		{"salt/job/1/new\t[1, 2]\n", "", false},
		{"salt/job/1/new\t{\"a\": \n", "", false},
		{"\n", "", false},
	} {
		e, ok := ParseLine([]byte(c.in))
		if ok != c.ok || e.Tag != c.tag {
			t.Errorf("%q: %q %v", c.in, e.Tag, ok)
		}
	}
}

func TestParseTag(t *testing.T) {
	for _, c := range []struct {
		tag  string
		want tagInfo
	}{
		{"salt/job/20261130154129421938/new", tagInfo{kind: jobNew, jid: "20261130154129421938"}},
		{"salt/job/20261130154129421938/ret/web/1", tagInfo{kind: jobRet, jid: "20261130154129421938", minion: "web/1"}},
		{"salt/job/20261130154129421938/start/m1", tagInfo{kind: jobStart, jid: "20261130154129421938", minion: "m1"}},
		{"syndic/syn1/20261130154129421938", tagInfo{kind: syndicTally, jid: "20261130154129421938", syndic: "syn1"}},
		{"syndic/syn1/salt/job/20261130154129421938/new", tagInfo{kind: jobNew, jid: "20261130154129421938", syndic: "syn1", fromSyndicCopy: true}},
		{"syndic/syn1/salt/job/20261130154129421938/ret/m1", tagInfo{}},
		{"salt/job/20261130154129421938/publish", tagInfo{kind: other, jid: "20261130154129421938"}},
		{"salt/run/20261130154129421938/ret", tagInfo{}},
		{"salt/job/req/ret/m1", tagInfo{}},
	} {
		if got := parseTag(c.tag); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.tag, got, c.want)
		}
	}
}
