package cmd

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/saltmail/saltmail/report/deliver"
)

// delivery is the transport part of a Config, checked before any input
// is read.
type delivery struct {
	dial  deliver.Dialer
	retry deliver.Retry
	what  string // for messages: "SMTP host:port (starttls)", "sendmail /usr/sbin/sendmail"
}

func (c *Config) delivery(hostname string, trace func(step, detail string)) (*delivery, error) {
	if c.Retry.Attempts < 1 {
		return nil, fmt.Errorf("%s: must be at least 1", names("retry.attempts"))
	}
	if c.Retry.Backoff < 0 {
		return nil, fmt.Errorf("%s: must not be negative", names("retry.backoff"))
	}
	retry := deliver.Retry{Attempts: c.Retry.Attempts, Backoff: c.Retry.Backoff}
	if c.Sendmail != "" {
		s := &deliver.Sendmail{Path: c.Sendmail, Timeout: max(6*c.SMTP.Timeout, time.Minute)}
		return &delivery{dial: s.Dial, retry: retry, what: "sendmail " + c.Sendmail}, nil
	}
	s := &deliver.SMTP{
		Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: c.SMTP.TLS,
		Username: c.SMTP.User, Password: c.SMTP.Password, HELO: c.SMTP.HELO,
		InsecureSkipVerify: c.SMTP.InsecureSkipVerify, Timeout: c.SMTP.Timeout, Trace: trace,
	}
	if s.Port == 0 {
		s.Port = map[string]int{deliver.StartTLS: 587, deliver.ImplicitTLS: 465, deliver.NoTLS: 25}[s.TLS]
	}
	if s.HELO == "" {
		s.HELO = hostname
	}
	if c.SMTP.CAFile != "" {
		pem, err := os.ReadFile(c.SMTP.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names("smtp.ca_file"), err)
		}
		s.RootCAs = x509.NewCertPool()
		if !s.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", names("smtp.ca_file"), c.SMTP.CAFile)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &delivery{dial: s.Dial, retry: retry, what: fmt.Sprintf("SMTP %s:%d (%s)", s.Host, s.Port, s.TLS)}, nil
}

// DefaultSpoolDir holds undeliverable mail when spool_dir names no
// other and it is writable.
const DefaultSpoolDir = "/var/spool/saltmail"

// spool picks the spool directory: spool_dir when set (created 0700 on
// first use), else /var/spool/saltmail when writable, else the user's
// state directory (a cron job of an ordinary user).
func (c *Config) spool(getenv func(string) string) deliver.Spool {
	return c.spoolAt(getenv, writableDir)
}

// spoolAt picks the spool directory, taking DefaultSpoolDir when usable
// says so.
func (c *Config) spoolAt(getenv func(string) string, usable func(dir string) bool) deliver.Spool {
	if c.SpoolDir != "" {
		return deliver.Spool{Dir: c.SpoolDir}
	}
	if usable(DefaultSpoolDir) {
		return deliver.Spool{Dir: DefaultSpoolDir}
	}
	state := getenv("XDG_STATE_HOME")
	if state == "" {
		home := getenv("HOME")
		if home == "" {
			home = os.TempDir()
		}
		state = filepath.Join(home, ".local", "state")
	}
	return deliver.Spool{Dir: filepath.Join(state, "saltmail", "spool")}
}

// isDir: a look that creates nothing, for commands that only read.
func isDir(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

func writableDir(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}
