package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// writeMbox writes msgs in mboxrd form: each message after its From_
// line and followed by a blank line, and every line of it that a reader
// could take for a From_ line (>*From ) quoted with one more '>'. Salt
// text reaches the body verbatim (a minion id may hold line breaks), so
// without the quoting it could start messages of its own.
func writeMbox(w io.Writer, msgs []outgoing, now time.Time) error {
	bw := bufio.NewWriter(w)
	for _, m := range msgs {
		fmt.Fprintf(bw, "From %s %s\n", mboxSender(m.env.From), now.UTC().Format("Mon Jan _2 15:04:05 2006"))
		for _, line := range bytes.SplitAfter(m.data, []byte("\n")) {
			if isFromLine(line) {
				bw.WriteByte('>')
			}
			bw.Write(line)
		}
		if !bytes.HasSuffix(m.data, []byte("\n")) {
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// isFromLine: the line is "From " after any number of '>'.
func isFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// mboxSender is the envelope sender as one word of the From_ line: an
// address with white space (a quoted local part) would break the line.
func mboxSender(from string) string {
	if from == "" || strings.ContainsFunc(from, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "MAILER-DAEMON"
	}
	return from
}
