package report

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/saltmail/saltmail/filter"
	"gopkg.in/gomail.v2"
)

func verdictOf(t *testing.T, in string) *filter.Verdict {
	t.Helper()
	v, err := filter.Evaluate(strings.NewReader(in), "in", filter.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func opts(t *testing.T) MailOptions {
	from, _ := mail.ParseAddress("Salt Master <salt@example.com>")
	to, _ := mail.ParseAddress("ops@example.com")
	return MailOptions{From: from, To: []*mail.Address{to}, Date: time.Date(2026, 11, 25, 10, 15, 2, 0, time.UTC), MessageID: "<1.test@example.com>"}
}

// raw builds and writes the message, then reads it back as a mail
// reader would: headers, and each part decoded.
func raw(t *testing.T, v *filter.Verdict, o MailOptions) (rawMsg []byte, hdr mail.Header, parts map[string]string) {
	t.Helper()
	m, err := Build(v, o)
	if err != nil {
		t.Fatal(err)
	}
	return decoded(t, m)
}

// decoded writes a message and reads it back: headers, and each part
// decoded.
func decoded(t *testing.T, m *gomail.Message) (rawMsg []byte, hdr mail.Header, parts map[string]string) {
	t.Helper()
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("not a readable message: %v", err)
	}
	parts = map[string]string{}
	var walk func(r io.Reader, ctype string)
	walk = func(r io.Reader, ctype string) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			body, _ := io.ReadAll(r)
			parts[mt] = string(body)
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var body io.Reader = p // multipart decodes quoted-printable itself
			if p.Header.Get("Content-Transfer-Encoding") == "base64" {
				body = base64Reader(p)
			}
			walk(body, p.Header.Get("Content-Type"))
		}
	}
	walk(msg.Body, msg.Header.Get("Content-Type"))
	return b.Bytes(), msg.Header, parts
}

func TestHostileInputInHeadersAndHTML(t *testing.T) {
	long := strings.Repeat("n", 3000)
	in := `{"fun": "state.apply", "jid": "2026\r\nBcc: jid@evil.example", "id": "web1\r\nBcc: evil@example.com", "return": {` +
		`"cmd_|-<script>alert(1)</script>_|-` + long + `_|-run": {"result": false, "changes": {"diff": "<b>bold</b>\n+added\n-removed"}, "comment": "</pre><script>x()</script>", "__id__": "<script>alert(1)</script>", "__run_num__": 0}}}`
	v := verdictOf(t, in)
	b, hdr, parts := raw(t, v, opts(t))
	inHeader := true
	for i, l := range bytes.Split(b, []byte("\r\n")) {
		if len(l) > 998 {
			t.Errorf("line %d is %d bytes long", i+1, len(l))
		}
		if len(l) == 0 {
			inHeader = false
		}
		if inHeader && bytes.HasPrefix(bytes.ToLower(l), []byte("bcc:")) {
			t.Errorf("a Bcc header was injected: %q", l)
		}
	}
	if got := hdr.Get("Bcc"); got != "" {
		t.Errorf("Bcc header %q", got)
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(hdr.Get("Subject"))
	if !strings.HasPrefix(strings.Join(strings.Fields(subject), " "), "[salt] web1 Bcc: evil@example.com: 1 failed") {
		t.Errorf("subject %q", subject)
	}
	if len(subject) > maxSubject+10 {
		t.Errorf("subject is %d long", len(subject))
	}
	html := parts["text/html"]
	if html == "" || parts["text/plain"] == "" {
		t.Fatalf("parts: %v", keys(parts))
	}
	for _, bad := range []string{"<script>", "</pre><script>", "<b>bold</b>"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML part carries %q unescaped", bad)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the state id is not in the HTML part, escaped")
	}
	if !strings.Contains(parts["text/plain"], "<script>alert(1)</script>") {
		t.Error("the text part should show the id as it is")
	}
	if hdr.Get("Auto-Submitted") != "auto-generated" || hdr.Get("Message-Id") != "<1.test@example.com>" || hdr.Get("Date") != "Wed, 25 Nov 2026 10:15:02 +0000" {
		t.Errorf("headers %v", hdr)
	}
}

func TestNonASCIISubjectIsEncoded(t *testing.T) {
	v := verdictOf(t, `{"wéb-名前": {"test_|-a_|-a_|-f": {"result": false, "changes": {}, "__run_num__": 0}}}`)
	b, hdr, _ := raw(t, v, opts(t))
	for _, l := range strings.Split(string(b), "\r\n") {
		if l == "" {
			break // end of headers
		}
		for _, r := range l {
			if r > 127 {
				t.Fatalf("raw header line with non-ASCII: %q", l)
			}
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
	if err != nil || subject != "[salt] wéb-名前: 1 failed" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	minion, _ := new(mime.WordDecoder).DecodeHeader(hdr.Get("X-Salt-Minion"))
	if minion != "wéb-名前" {
		t.Errorf("X-Salt-Minion %q", minion)
	}
}

func TestSubjects(t *testing.T) {
	fail := `"test_|-a_|-a_|-f": {"result": false, "changes": {}, "__run_num__": 0}`
	change := `"test_|-b_|-b_|-f": {"result": true, "changes": {"x": 1}, "__run_num__": 1}`
	cases := []struct{ in, tmpl, want string }{
		{`{"fun": "state.apply", "id": "web1", "jid": "20261125101502123456", "return": {` + fail + `, ` + change + `}}`, "",
			"[salt] web1: 1 failed, 1 changed (state.apply 20261125101502123456)"},
		{`{"a": {` + fail + `}}{"b": {` + change + `}}{"c": "Minion did not return. [No response]"}{"d": {}}`, "",
			"[salt] 3 minions: 1 failed, 1 changed, 1 did not return"},
		{`{"web1": "Minion did not return. [No response]"}`, "", "[salt] web1: did not return"},
		{`{"web1": ["Rendering SLS 'base:x' failed"]}`, "", "[salt] web1: failed to compile"},
		{`{"web1": {` + fail + `}}`, "{{.Status}} {{.Failed}} on {{.Minion}}", "critical 1 on web1"},
	}
	for _, c := range cases {
		st, err := ParseSubject(c.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Subject(st, verdictOf(t, c.in))
		if err != nil || got != c.want {
			t.Errorf("got %q (%v), want %q", got, err, c.want)
		}
	}
	if _, err := ParseSubject("{{.Nope"); err == nil {
		t.Error("a broken template parses")
	}
}

// A megabyte diff is cut per state, the full verdict rides along
// gzipped, and the whole mail stays far below a 10 MiB server limit.
func TestSizeBounds(t *testing.T) {
	diff := strings.Repeat("+ line of a very large diff ünïcødé\\n", 600000) // ~22 MB
	in := `{"web1": {"file_|-big_|-/etc/big_|-managed": {"result": true, "changes": {"diff": "` + diff + `"}, "comment": "updated", "__run_num__": 0}, ` +
		`"test_|-f_|-f_|-fail": {"result": false, "changes": {}, "comment": "small failure", "__run_num__": 1}}}`
	v := verdictOf(t, in)
	b, _, parts := raw(t, v, opts(t))
	if len(b) > 6<<20 {
		t.Errorf("message is %d bytes", len(b))
	}
	text := parts["text/plain"]
	if len(text) > DefaultPartLimit+64<<10 || !strings.Contains(text, "bytes cut, see attachment]") {
		t.Errorf("text part %d bytes, cut marker present: %v", len(text), strings.Contains(text, "bytes cut"))
	}
	if !strings.Contains(text, "small failure") {
		t.Error("the small failure after the big diff was lost")
	}
	gz, ok := parts["application/gzip"]
	if !ok {
		gz, ok = parts["application/x-gzip"]
	}
	if !ok {
		t.Fatalf("no gzipped verdict attached: %v", keys(parts))
	}
	zr, err := gzip.NewReader(strings.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	full, _ := io.ReadAll(zr)
	if !bytes.Contains(full, []byte("small failure")) || len(full) < 20<<20 {
		t.Errorf("attachment holds %d bytes", len(full))
	}
}

func keys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	return k
}

func base64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, r)
}

func TestHTMLColoursDiffLines(t *testing.T) {
	html, err := HTML(evalCapture(t, "../testdata/corpus/local/state.apply.diff.json.out"), DefaultPartLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<span style="color:` + red + `">    -line two</span>`,
		`<span style="color:` + green + `">    &#43;line 2 (changed)</span>`,
		`<span style="color:` + cyan + `">    @@ -1,3 &#43;1,4 @@</span>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
}

// A digest of thousands of minions with a few changes each must still
// be deliverable: each part keeps to its limit, the failing minions are
// shown whatever their place in the input, and the rest are named and
// ride along in the attached verdict.
func TestFleetDigestSizeBounds(t *testing.T) {
	line := func(capture, id string) string {
		raw, err := os.ReadFile("../testdata/corpus/master/" + capture)
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.SplitN(string(raw), "\n", 2)[0]
		end := strings.IndexByte(doc[2:], '"') + 2
		return `{"` + id + `"` + doc[end+1:] + "\n"
	}
	var b strings.Builder
	const changed, failing = 6000, 40
	for i := 0; i < changed; i++ {
		b.WriteString(line("salt.state.apply.changes.json-indent-1.out", fmt.Sprintf("web%04d.example.com", i)))
	}
	for i := 0; i < failing; i++ {
		b.WriteString(line("salt.state.apply.failures.json-indent-1.out", fmt.Sprintf("db%02d.example.com", i)))
	}
	v := verdictOf(t, b.String())
	msg, _, parts := raw(t, v, opts(t))
	if len(msg) > 6<<20 {
		t.Errorf("message is %d bytes", len(msg))
	}
	text, html := strings.ReplaceAll(parts["text/plain"], "\r\n", "\n"), parts["text/html"]
	for name, p := range map[string]string{"text": text, "html": html} {
		if len(p) > DefaultPartLimit+128<<10 {
			t.Errorf("%s part is %d bytes", name, len(p))
		}
	}
	for i := 0; i < failing; i++ {
		id := fmt.Sprintf("db%02d.example.com", i)
		if !strings.Contains(text, "\n"+id+":\n") || !strings.Contains(html, ">"+id+"</h3>") {
			t.Fatalf("failing minion %s not shown", id)
		}
	}
	// Each part shows what fits it, and says how many it leaves out.
	shown, htmlShown := strings.Count(text, "\nSummary for "), strings.Count(html, "</h3>")
	notShown := fmt.Sprintf("%d minions not shown", changed+failing-shown)
	htmlNotShown := fmt.Sprintf("%d minions not shown", changed+failing-htmlShown)
	if shown < 100 || htmlShown < 100 || !strings.Contains(text, notShown) || !strings.Contains(html, htmlNotShown) {
		t.Errorf("%d and %d minions shown; %q in text %v, %q in html %v", shown, htmlShown, notShown, strings.Contains(text, notShown), htmlNotShown, strings.Contains(html, htmlNotShown))
	}
	// Named with their news, up to maxNames; the rest counted.
	omitted := changed + failing - shown
	if !strings.Contains(text, ".example.com (4 changed), ") || !strings.Contains(text, fmt.Sprintf(" and %d more\n", omitted-maxNames)) {
		t.Error("the minions left out are not named and counted")
	}
	if _, ok := parts["application/gzip"]; !ok {
		if _, ok := parts["application/json"]; !ok {
			t.Errorf("no verdict attached: %v", keys(parts))
		}
	}
}

// A verdict too large to attach even gzipped is left out, and the mail
// says so instead of pointing at an attachment that is not there.
func TestVerdictTooLargeToAttach(t *testing.T) {
	var noise strings.Builder
	x := uint64(1)
	for noise.Len() < 8<<20 { // hex of a xorshift stream: gzip halves it at best
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(&noise, "%016x", x)
	}
	in := `{"web1": {"file_|-big_|-/etc/big_|-managed": {"result": false, "changes": {"diff": "` + noise.String() + `"}, "comment": "failed", "__run_num__": 0}}}`
	msg, _, parts := raw(t, verdictOf(t, in), opts(t))
	if len(msg) > 6<<20 {
		t.Errorf("message is %d bytes", len(msg))
	}
	if _, ok := parts["application/gzip"]; ok {
		t.Error("a verdict over the limit was attached")
	}
	for _, p := range []string{parts["text/plain"], parts["text/html"]} {
		if !strings.Contains(p, "too large to attach") || !strings.Contains(p, "bytes cut") {
			t.Errorf("part does not say the verdict is left out:\n%.300s", p[max(len(p)-300, 0):])
		}
	}
}

// A first highstate of a new server changes thousands of states: too
// much to show, but its failures must not hide among them.
func TestHugeMinionShowsItsFailures(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"new1.example.com": {`)
	const states, failed = 4000, 50
	for i := 0; i < states; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if i%(states/failed) == 7 {
			fmt.Fprintf(&b, `"pkg_|-pkg%04d_|-pkg%04d_|-installed": {"result": false, "changes": {}, "comment": "Package pkg%04d is not available", "__run_num__": %d, "__id__": "pkg%04d"}`, i, i, i, i, i)
			continue
		}
		fmt.Fprintf(&b, `"file_|-f%04d_|-/etc/app/f%04d.conf_|-managed": {"result": true, "changes": {"diff": "New file", "mode": "0644"}, "comment": "File /etc/app/f%04d.conf updated", "__run_num__": %d, "__id__": "f%04d", "name": "/etc/app/f%04d.conf"}`, i, i, i, i, i, i)
	}
	b.WriteString("}}")
	msg, _, parts := raw(t, verdictOf(t, b.String()), opts(t))
	text, html := strings.ReplaceAll(parts["text/plain"], "\r\n", "\n"), parts["text/html"]
	if len(text) > DefaultPartLimit+128<<10 || len(html) > DefaultPartLimit+128<<10 || len(msg) > 6<<20 {
		t.Errorf("text %d, html %d, message %d bytes", len(text), len(html), len(msg))
	}
	for i := 7; i < states; i += states / failed {
		id := fmt.Sprintf("pkg%04d", i)
		if !strings.Contains(text, "ID: "+id+"\n") || !strings.Contains(html, ">"+id+" <span") {
			t.Fatalf("failed state %s not shown", id)
		}
	}
	note := fmt.Sprintf("(%d more states not shown", states-failed)
	if !strings.Contains(text, note) || !strings.Contains(html, note) || strings.Contains(text, "minion not shown") {
		t.Errorf("want %q in both parts, and the minion shown", note)
	}
}
