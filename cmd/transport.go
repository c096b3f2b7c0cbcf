package cmd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

// delivery is the transport part of a Config, checked before any input
// is read.
type delivery struct {
	dial  deliver.Dialer
	retry deliver.Retry
	what  string // for messages: "SMTP host:port (starttls)", "sendmail /usr/sbin/sendmail"
}

// transportKeys name deliver's fields as the configuration does.
var transportKeys = map[string]string{
	"Host": "smtp.host", "Port": "smtp.port", "TLS": "smtp.tls", "Username": "smtp.user",
	"Attempts": "retry.attempts", "Backoff": "retry.backoff", "Path": "sendmail",
}

// configError gives a *deliver.ConfigError the setting's names; timeout
// is the key its Timeout field comes from.
func configError(err error, timeout string) error {
	var ce *deliver.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	key, ok := transportKeys[ce.Field]
	if ce.Field == "Timeout" {
		key, ok = timeout, true
	}
	if !ok {
		return err
	}
	msg := ce.Msg
	if key == "smtp.host" {
		msg += " (or set sendmail)"
	}
	return fmt.Errorf("%s: %s", names(key), msg)
}

func (c *Config) delivery(hostname string, trace func(step, detail string)) (*delivery, error) {
	retry := deliver.Retry{Attempts: c.Retry.Attempts, Backoff: c.Retry.Backoff}
	if err := retry.Validate(); err != nil {
		return nil, configError(err, "")
	}
	if c.Sendmail != "" {
		s := &deliver.Sendmail{Path: c.Sendmail, Timeout: max(6*c.SMTP.Timeout, time.Minute), Env: childEnv(os.Environ())}
		if err := s.Validate(); err != nil {
			return nil, configError(err, "smtp.timeout")
		}
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
		return nil, configError(err, "smtp.timeout")
	}
	return &delivery{dial: s.Dial, retry: retry, what: fmt.Sprintf("SMTP %s:%d (%s)", s.Host, s.Port, s.TLS)}, nil
}

// DefaultSpoolDir holds undeliverable mail when spool_dir names no
// other and it is writable.
const DefaultSpoolDir = "/var/spool/saltmail"

// spool picks the spool directory, creating nothing (the spool makes
// its directory, 0700, when it first keeps a message): spool_dir when
// set, else the default when this user may write it or make it, else
// the user's own (a cron job of an ordinary user).
func (c *Config) spool(p Paths) deliver.Spool {
	switch {
	case c.SpoolDir != "":
		return deliver.Spool{Dir: c.SpoolDir}
	case mayWrite(p.SpoolDir):
		return deliver.Spool{Dir: p.SpoolDir}
	}
	return deliver.Spool{Dir: p.UserSpoolDir}
}

// checkDirs refuses, before any input is read, a spool or state dir
// that another user could write (deliver.CheckDir): whoever can plant a
// file there can make saltmail mail any file, drop alerts or forge what
// was reported.
func (r *resolved) checkDirs() error {
	if r.spool.Dir != "" {
		if err := r.spool.Check(); err != nil {
			return err
		}
	}
	if m, ok := r.memory.(interface{ Check() error }); ok {
		return m.Check()
	}
	return nil
}

// userStateDir is where a user who may not write the default spool
// keeps theirs: $XDG_STATE_HOME, else .local/state in the home from
// $HOME, else from the passwd entry; never under /tmp, where another
// user could make it first. "" when there is no home at all: then
// there is no user spool, and keeping a message in the default one
// fails, saying why, if need be.
func userStateDir(getenv func(string) string) string {
	if state := getenv("XDG_STATE_HOME"); filepath.IsAbs(state) { // the XDG spec ignores a relative one
		return state
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		home = passwdHome()
	}
	if !filepath.IsAbs(home) {
		return ""
	}
	return filepath.Join(home, ".local", "state")
}

// passwdHome is the running user's home from the passwd entry; tests
// put their own in its place, so they never read the host's /etc.
var passwdHome = func() string {
	u, err := user.LookupId(strconv.Itoa(os.Getuid()))
	if err != nil {
		return ""
	}
	return u.HomeDir
}

// mayWrite says whether this user may write in dir, or create it: the
// nearest existing directory on its path must be writable.
func mayWrite(dir string) bool {
	const wOK, xOK = 2, 1 // access(2) modes
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil {
			return st.IsDir() && syscall.Access(d, wOK|xOK) == nil
		}
		if !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			return false
		}
	}
}
