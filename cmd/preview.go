package cmd

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// placeholderTo addresses a preview that names no recipient: .invalid
// can never be delivered (RFC 2606), so a preview piped into sendmail
// by mistake reaches nobody.
const placeholderTo = "recipient@example.invalid"

// renderFormats are render's --format values.
var renderFormats = []string{"text", "html", "eml"}

// previewFormat is the format to write: the one asked for, else text
// for a person at a terminal and eml for a pipe (a file, sendmail, a
// test that greps headers), as git and gh pick by the same test.
func previewFormat(f *Factory, asked string) (string, error) {
	if asked == "" {
		if f.IsTerminal != nil && f.IsTerminal() {
			return "text", nil
		}
		return "eml", nil
	}
	for _, ok := range renderFormats {
		if asked == ok {
			return asked, nil
		}
	}
	return "", fmt.Errorf("--format must be text, html or eml, not %q", asked)
}

// mailParts is what a person reads of one message.
type mailParts struct {
	subject, text, html string
	attachments         []string // "name, N bytes"
}

// writePreview writes the messages in format: eml as they would be
// sent (several as an mbox), text or html as their decoded parts.
func writePreview(w io.Writer, msgs []outgoing, now time.Time, format string) error {
	if format == "eml" {
		return writeMessages(w, msgs, now)
	}
	var b bytes.Buffer
	for i, m := range msgs {
		p, err := decodeMail(m.data)
		if err != nil {
			return fmt.Errorf("decode the message %q: %w", m.subject, err)
		}
		if format == "html" {
			if i > 0 {
				b.WriteString("\n<hr>\n")
			}
			b.WriteString(p.html)
			continue
		}
		if i > 0 {
			b.WriteString("\n" + strings.Repeat("=", 72) + "\n\n")
		}
		fmt.Fprintf(&b, "Subject: %s\n\n%s", p.subject, p.text)
		if !strings.HasSuffix(p.text, "\n") {
			b.WriteByte('\n')
		}
		for _, a := range p.attachments {
			fmt.Fprintf(&b, "\n[attached: %s]\n", a)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// decodeMail reads a message as report builds it: a subject (RFC 2047
// words decoded) and a tree of MIME parts, each quoted-printable or
// base64.
func decodeMail(data []byte) (mailParts, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return mailParts{}, err
	}
	var p mailParts
	dec := new(mime.WordDecoder)
	if p.subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		p.subject = msg.Header.Get("Subject")
	}
	err = p.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body)
	return p, err
}

// walk visits one MIME entity: a multipart's parts in turn, or a leaf
// that is the text part, the HTML part or an attachment.
func (p *mailParts) walk(ctype, encoding, disposition string, body io.Reader) error {
	media, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		media = "text/plain" // RFC 2045's default
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			// multipart has removed quoted-printable already.
			h := part.Header
			if err := p.walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), h.Get("Content-Disposition"), part); err != nil {
				return err
			}
		}
	}
	content, err := io.ReadAll(decodeBody(encoding, body))
	if err != nil {
		return err
	}
	disp, dparams, _ := mime.ParseMediaType(disposition)
	switch {
	case disp == "attachment":
		p.attachments = append(p.attachments, fmt.Sprintf("%s, %d bytes", dparams["filename"], len(content)))
	case media == "text/plain" && p.text == "":
		p.text = strings.ReplaceAll(string(content), "\r\n", "\n") // a terminal's line ends
	case media == "text/html" && p.html == "":
		p.html = strings.ReplaceAll(string(content), "\r\n", "\n")
	}
	return nil
}

func decodeBody(encoding string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body) // line breaks are skipped
	}
	return body
}
