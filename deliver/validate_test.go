package deliver_test

import (
	"errors"
	"testing"
	"time"

	"github.com/saltmail/saltmail/deliver"
)

// Validate names the field at fault in deliver's own terms; the caller
// knows what its users call it.
func TestValidateNamesTheField(t *testing.T) {
	ok := deliver.SMTP{Host: "smtp.example.com", Port: 587, TLS: deliver.StartTLS, Timeout: time.Second}
	cases := []struct {
		name  string
		err   error
		field string
	}{
		{"no host", func() error { c := ok; c.Host = ""; return c.Validate() }(), "Host"},
		{"bad tls", func() error { c := ok; c.TLS = "ssl"; return c.Validate() }(), "TLS"},
		{"password in clear", func() error {
			c := ok
			c.TLS, c.Username, c.Password = deliver.NoTLS, "u", "p"
			return c.Validate()
		}(), "TLS"},
		{"bad port", func() error { c := ok; c.Port = 70000; return c.Validate() }(), "Port"},
		{"password without user", func() error { c := ok; c.Password = "p"; return c.Validate() }(), "Username"},
		{"no timeout", func() error { c := ok; c.Timeout = 0; return c.Validate() }(), "Timeout"},
		{"no sendmail path", (&deliver.Sendmail{Timeout: time.Second}).Validate(), "Path"},
		{"no tries", deliver.Retry{Attempts: 0}.Validate(), "Attempts"},
		{"negative backoff", deliver.Retry{Attempts: 1, Backoff: -1}.Validate(), "Backoff"},
	}
	for _, c := range cases {
		var ce *deliver.ConfigError
		if !errors.As(c.err, &ce) || ce.Field != c.field {
			t.Errorf("%s: %v, want a ConfigError on %s", c.name, c.err, c.field)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}
