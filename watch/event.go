package watch

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"
)

// Event is one event of the bus: its tag and its data, raw JSON.
type Event struct {
	Tag  string
	Data []byte
}

// ParseLine reads one line of `salt-run state.event pretty=False`:
// TAG, a tab, the data as JSON. Anything else (the Python traceback the
// runner prints on SIGTERM, a blank line) is not an event: ok is false.
func ParseLine(line []byte) (Event, bool) {
	line = bytes.TrimRight(line, "\r\n")
	tag, data, found := bytes.Cut(line, []byte("\t"))
	if !found || len(tag) == 0 || bytes.ContainsAny(tag, " \"{") || !json.Valid(data) {
		return Event{}, false
	}
	if d := bytes.TrimSpace(data); len(d) == 0 || d[0] != '{' {
		return Event{}, false
	}
	return Event{Tag: string(tag), Data: append([]byte(nil), data...)}, true
}

// kind is what a tag says an event is.
type kind int

const (
	other       kind = iota
	jobNew           // salt/job/<jid>/new, or a syndic's copy of it
	jobRet           // salt/job/<jid>/ret/<minion>
	jobStart         // salt/job/<jid>/start/<minion> (3008 --start-event)
	syndicTally      // syndic/<id>/<jid>: the minions below a syndic
)

// tagInfo is what a tag names.
type tagInfo struct {
	kind           kind
	jid, minion    string
	syndic         string // the relay, for syndic/<id>/... tags
	fromSyndicCopy bool
}

// parseTag reads the tags a watcher acts on; any other is other.
func parseTag(tag string) tagInfo {
	var t tagInfo
	if rest, ok := strings.CutPrefix(tag, "syndic/"); ok {
		id, rest, _ := strings.Cut(rest, "/")
		if id == "" {
			return tagInfo{}
		}
		if isJID(rest) {
			return tagInfo{kind: syndicTally, jid: rest, syndic: id}
		}
		// 3008 fires the syndic's own salt/job/<jid>/new pretagged.
		t = parseTag(rest)
		t.syndic, t.fromSyndicCopy = id, true
		if t.kind != jobNew {
			return tagInfo{}
		}
		return t
	}
	parts := strings.SplitN(tag, "/", 5) // a minion id may hold a slash
	if len(parts) < 4 || parts[0] != "salt" || parts[1] != "job" || !isJID(parts[2]) {
		return tagInfo{}
	}
	t.jid = parts[2]
	switch {
	case len(parts) == 4 && parts[3] == "new":
		t.kind = jobNew
	case len(parts) == 5 && parts[3] == "ret" && parts[4] != "":
		t.kind, t.minion = jobRet, parts[4]
	case len(parts) == 5 && parts[3] == "start" && parts[4] != "":
		t.kind, t.minion = jobStart, parts[4]
	}
	return t
}

// isJID: Salt's jids are 20 digits (a time to the microsecond).
func isJID(s string) bool {
	if len(s) != 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// header is what the tracker reads of an event's data.
type header struct {
	Fun, ID, JID, Schedule, Cmd string
	Stamp                       string // _stamp: when the master fired it, UTC
	Minions                     []string
	PID                         string // raw JSON; "" when absent
	PeerID                      bool   // __peer_id is there
}

// readHeader reads the top-level fields the tracker needs in one pass
// over the event, skipping the rest (a return can be megabytes that
// filter reads anyway). The data is valid JSON: ParseLine checked it,
// and the journal and the reconcile hold only what it passed.
func readHeader(data []byte) (header, bool) {
	var h header
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return h, false
	}
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.String() {
		case "fun":
			h.Fun = v.String()
		case "id":
			h.ID = v.String()
		case "jid":
			h.JID = v.String()
		case "schedule":
			h.Schedule = v.String()
		case "cmd":
			h.Cmd = v.String()
		case "_stamp":
			h.Stamp = v.String()
		case "pid":
			h.PID = v.Raw
		case "__peer_id":
			h.PeerID = true
		case "minions":
			for _, m := range v.Array() {
				h.Minions = append(h.Minions, m.String())
			}
		}
		return true
	})
	return h, true
}
