package report

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saltmail/saltmail/filter"
)

// fleet is a verdict of n minions from the real highstate capture, each
// document under a new minion id.
func fleet(b *testing.B, n int) *filter.Verdict {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", "master", "salt.state.highstate.json.out"))
	if err != nil {
		b.Fatal(err)
	}
	docs := strings.SplitAfter(strings.TrimSpace(string(raw)), "\n}\n")
	var in strings.Builder
	for i := 0; i < n; i++ {
		d := docs[i%len(docs)]
		end := strings.Index(d, ":")
		fmt.Fprintf(&in, "{\n    \"host%05d\"%s\n", i, d[end:])
	}
	v, err := filter.Evaluate(strings.NewReader(in.String()), "fleet", filter.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func BenchmarkText(b *testing.B) {
	v := fleet(b, 300)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		text, _ := Text(v, DefaultPartLimit)
		b.SetBytes(int64(len(text)))
	}
}

func BenchmarkHTML(b *testing.B) {
	v := fleet(b, 300)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		html, err := HTML(v, DefaultPartLimit)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(html)))
	}
}

func BenchmarkBuildMessage(b *testing.B) {
	v := fleet(b, 300)
	from, _ := mail.ParseAddress("salt@example.com")
	to, _ := mail.ParseAddress("ops@example.com")
	o := MailOptions{From: from, To: []*mail.Address{to}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := Build(v, o)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		m.WriteTo(&buf)
		b.SetBytes(int64(buf.Len()))
	}
}
