package deliver

import (
	"errors"
	"fmt"
	"net/smtp"
	"strings"
)

// pickAuth chooses the mechanism among those the server offers: PLAIN,
// then LOGIN, then CRAM-MD5. PLAIN and LOGIN refuse to run without TLS
// except on loopback.
func pickAuth(offered, user, pass, host string) (smtp.Auth, string, error) {
	has := map[string]bool{}
	for _, m := range strings.Fields(strings.ToUpper(offered)) {
		has[m] = true
	}
	switch {
	case has["PLAIN"]:
		return smtp.PlainAuth("", user, pass, host), "PLAIN", nil
	case has["LOGIN"]:
		return &loginAuth{user: user, pass: pass, host: host}, "LOGIN", nil
	case has["CRAM-MD5"]:
		return smtp.CRAMMD5Auth(user, pass), "CRAM-MD5", nil
	}
	return nil, "", fmt.Errorf("the server offers AUTH %s; saltmail speaks PLAIN, LOGIN and CRAM-MD5", offered)
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks.
type loginAuth struct{ user, pass, host string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:":
		return []byte(a.user), nil
	case "password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}
