package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// salt-call names its minion "local"; the mail, headers and memory name
// the machine: the minion_id setting, else minion_id or id: in Salt's
// config dir (the run command's -c, else the default), else the host.
func TestLocalMinionID(t *testing.T) {
	capture := corpus("local/state.apply.failures.json.out")
	cases := []struct {
		name  string
		files map[string]string // in the Salt config dir
		args  []string
		want  string
	}{
		{"the host name", nil, nil, "master1"},
		{"minion_id", map[string]string{"minion_id": "web7.example.com\n", "minion": "id: other\n"}, nil, "web7.example.com"},
		{"id: in the minion config", map[string]string{"minion": "master: salt\nid: db3\n"}, nil, "db3"},
		{"the setting wins", map[string]string{"minion_id": "web7"}, []string{"--minion-id", "chosen"}, "chosen"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, out, errb := fixedFactory(t, "")
			if err := os.MkdirAll(f.Paths.SaltConfigDir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, text := range c.files {
				os.WriteFile(filepath.Join(f.Paths.SaltConfigDir, name), []byte(text), 0o644)
			}
			Main(f, append(append([]string{"check", "-o", "json"}, c.args...), capture))
			var v struct{ Results []struct{ Minion string } }
			if err := json.Unmarshal(out.Bytes(), &v); err != nil || len(v.Results) != 1 || v.Results[0].Minion != c.want {
				t.Errorf("results %+v (%v, %s), want minion %s", v.Results, err, errb, c.want)
			}
		})
	}
	for _, c := range []struct {
		command []string
		want    string
	}{
		{[]string{"salt-call", "-c", "/srv/conf", "state.apply"}, "/srv/conf"},
		{[]string{"salt-call", "--config-dir=/srv/c2", "state.apply"}, "/srv/c2"},
		{[]string{"salt-call", "--config-dir", "/srv/c3"}, "/srv/c3"},
		{[]string{"salt-call", "-c/srv/c4"}, "/srv/c4"},
		{[]string{"salt-call", "--local", "state.apply"}, "/etc/salt"},
	} {
		if got := configDir(c.command, "/etc/salt"); got != c.want {
			t.Errorf("configDir(%q) = %q, want %q", c.command, got, c.want)
		}
	}
}
