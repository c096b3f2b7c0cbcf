package smtptest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake is a misbehaving server written in a few lines: Serve runs on
// every connection to a loopback listener until the test ends. Pool
// trusts TLS, the certificate Serve may speak TLS with.
type Fake struct {
	Host string
	Port int
	Pool *x509.CertPool
	TLS  *tls.Config
}

// StartFake runs serve on each connection; the connection is closed
// when serve returns or the test ends.
func StartFake(t testing.TB, serve func(f *Fake, c net.Conn)) *Fake {
	t.Helper()
	cert, pemBytes := selfSigned(t)
	f := &Fake{Pool: x509.NewCertPool(), TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	f.Pool.AppendCertsFromPEM(pemBytes)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.Host, f.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(f, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return f
}

// Flood writes chunk again and again until limit bytes are written or
// the client goes away, and returns what it wrote. The limit keeps a
// client that reads without bound from taking all memory.
func Flood(c net.Conn, chunk string, limit int) int {
	buf := []byte(strings.Repeat(chunk, max(1, 4096/len(chunk))))
	n := 0
	for n < limit {
		w, err := c.Write(buf)
		n += w
		if err != nil {
			break
		}
	}
	return n
}

// Drip writes s one byte per interval, over and over, until the client
// goes away.
func Drip(c net.Conn, s string, every time.Duration) {
	for i := 0; ; i++ {
		if _, err := c.Write([]byte{s[i%len(s)]}); err != nil {
			return
		}
		time.Sleep(every)
	}
}

// Converse answers a client's commands as a willing server would (the
// greeting is the caller's), up to the command that starts with stop
// (e.g. "EHLO", "STARTTLS"; "." is the end of a message), which it
// leaves for the caller to answer. It returns the reader to go on with,
// or nil when the client went away.
func Converse(c net.Conn, stop string, ehlo ...string) *bufio.Reader {
	r := bufio.NewReader(c)
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case inData && cmd != ".":
			continue
		case stop != "" && strings.HasPrefix(cmd, stop):
			return r
		case inData:
			inData = false
			c.Write([]byte("250 queued\r\n"))
		case strings.HasPrefix(cmd, "EHLO"):
			reply := "250-fake\r\n"
			for _, e := range ehlo {
				reply += "250-" + e + "\r\n"
			}
			c.Write([]byte(reply + "250 HELP\r\n"))
		case cmd == "DATA":
			inData = true
			c.Write([]byte("354 go on\r\n"))
		case cmd == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return nil
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}
