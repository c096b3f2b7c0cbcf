package main

// The dense profile exists because a real fleet's highstate is not the
// corpus's mix: the mixed profile redraws the corpus's few hundred
// entries, test states with long comments, unicode, diffs and command
// output among them, while `salt '*' state.highstate` on a fleet returns
// hundreds of small, clean, ASCII states per minion. There a tool's cost
// per state and per key dominates, not its string scanning, so the
// benchmark needs both.
//
// Each minion runs its role's plan (4 roles, same plan for every minion of
// a role, as Salt's top file does) of small states. Entries carry the
// fields Salt prints, in Salt's order: the corpus's captures show
// file.managed's own order (changes, comment, name, result), everyone
// else's (name, changes, result, comment), cmd.run's unless shortcut
// (skip_watch) and a failed requisite's order. Per state and minion,
// about 1.5% changed and 0.5% failed.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

type kind struct {
	mod, fn, area  string
	weight         int
	names          []string
	clean, extra   string // comment, extra clean fields (cmd.run's skip_watch)
	changes, done  string // changes (compact JSON) and comment when changed
	failCh, failed string // the same when failed; failed == "": a failed requisite
	us             [2]int // duration range in microseconds
}

// {name} and {id} stand for the state's name and ID.
var kinds = []kind{
	{"file", "managed", "files", 36, fileNames(), "File {name} is in the correct state", "",
		`{"diff":"--- \n+++ \n@@ -1,4 +1,4 @@\n # Managed by Salt, do not edit\n-workers = 2\n+workers = 4\n timeout = 30\n keepalive = on\n"}`,
		"File {name} updated", `{}`, "Source file salt://files{name} not found in saltenv 'base'", [2]int{2000, 60000}},
	{"pkg", "installed", "packages", 20, strings.Fields("nginx curl vim git htop rsync jq unzip tmux lsof strace tcpdump " +
		"ca-certificates openssl gnupg chrony rsyslog logrotate sudo openssh-server python3 python3-pip " +
		"build-essential net-tools dnsutils iproute2 iptables nftables fail2ban auditd unattended-upgrades " +
		"apt-transport-https software-properties-common acl bash-completion sysstat iotop ncdu less wget " +
		"zip bzip2 xz-utils postgresql-client redis-tools libssl-dev libffi-dev nfs-common lvm2 parted " +
		"smartmontools ethtool socat netcat-openbsd mtr-tiny"),
		"All specified packages are already installed", "",
		`{"{name}":{"old":"2.4.52-1ubuntu4.6","new":"2.4.52-1ubuntu4.7"}}`,
		"The following packages were installed/updated: {name}", `{}`,
		"The following packages failed to install/update: {name}", [2]int{300, 9000}},
	{"file", "directory", "dirs", 10, cross([]string{"/var/log", "/srv", "/var/lib", "/opt", "/var/cache", "/etc"},
		strings.Fields("app nginx metrics backup deploy exporter"), "/"),
		"The directory {name} is in the correct state", "",
		`{"{name}":{"directory":"new"}}`, "Directory {name} updated", "", "", [2]int{400, 3000}},
	{"service", "running", "services", 8, strings.Fields("nginx ssh rsyslog cron chrony node_exporter telegraf " +
		"postgresql redis-server docker containerd fail2ban auditd unattended-upgrades salt-minion haproxy " +
		"memcached php8.1-fpm systemd-timesyncd snmpd"),
		"The service {name} is already running", "",
		`{"{name}":true}`, "Started service {name}", `{}`, "Service {name} failed to start", [2]int{15000, 90000}},
	{"user", "present", "users", 6, strings.Fields("deploy backup monitor alice bob carol dave erin frank grace " +
		"heidi ivan judy mallory oscar peggy trent victor walter zabbix"),
		"User {name} is present and up to date", "",
		`{"groups":["{name}","sudo","docker"]}`, "Updated user {name}", "", "", [2]int{1500, 6000}},
	{"group", "present", "groups", 4, strings.Fields("admins deploy docker monitoring backup ops devs dba www ssl-cert sftp audit"),
		"Group {name} is present and up to date", "",
		`{"members":["alice","bob","deploy"]}`, "Updated group {name}", "", "", [2]int{500, 2000}},
	{"cmd", "run", "setup", 6, strings.Fields("init_app_db migrate_schema enable_swap rebuild_locale update_ca_certs " +
		"reload_systemd set_timezone warm_cache compile_assets register_node import_gpg_key seed_config " +
		"fix_permissions rotate_secrets generate_dhparam check_raid"),
		"unless condition is true", `"skip_watch": true`,
		`{"pid":23817,"retcode":0,"stdout":"done","stderr":""}`, `Command "{name}" run`,
		`{"pid":23817,"retcode":1,"stdout":"","stderr":"{id}: exit status 1"}`, `Command "{name}" run`, [2]int{5000, 40000}},
	{"file", "symlink", "links", 4, cross([]string{"/etc/nginx/sites-enabled", "/usr/local/bin", "/opt/app"},
		strings.Fields("current default app exporter"), "/"),
		"Symlink {name} is present and owned by root:root", "",
		`{"new":"{name}"}`, "Created new symlink {name} -> /opt/app/releases/20261125", "", "", [2]int{400, 2500}},
	{"cron", "present", "cron", 3, cross([]string{"/usr/local/bin/backup", "/usr/local/bin/cleanup", "/usr/local/bin/report"},
		strings.Fields("--daily --hourly --weekly --quiet"), " "),
		"Cron {name} already present", "", `{"root":"{name}"}`, "Cron {name} added to root's crontab", "", "", [2]int{1000, 4000}},
	{"sysctl", "present", "sysctl", 3, strings.Fields("vm.swappiness vm.overcommit_memory net.core.somaxconn " +
		"net.ipv4.ip_forward net.ipv4.tcp_syncookies fs.file-max kernel.pid_max net.ipv4.tcp_fin_timeout " +
		"vm.max_map_count net.core.netdev_max_backlog kernel.panic fs.inotify.max_user_watches"),
		"Sysctl value {name} = 1 is already set", "", `{"{name}":1}`, "Updated sysctl value {name} = 1", "", "", [2]int{1000, 5000}},
}

func fileNames() []string {
	dirs := strings.Fields("/etc/nginx/conf.d /etc/ssh/sshd_config.d /etc/rsyslog.d /etc/logrotate.d /etc/sudoers.d " +
		"/etc/systemd/system /etc/prometheus /etc/telegraf/telegraf.d /etc/security/limits.d /etc/profile.d /opt/app/config /etc/default")
	return cross(dirs, strings.Fields("app.conf backup.conf metrics.conf audit.conf limits.conf proxy.conf tls.conf logging.conf monitoring.conf defaults.conf"), "/")
}

// cross: every b joined to every a, the a varying fastest.
func cross(a, b []string, sep string) []string {
	var out []string
	for _, y := range b {
		for _, x := range a {
			out = append(out, x+sep+y)
		}
	}
	return out
}

// planned is one state of a role's plan: its key and, for clean, changed
// and failed, the entry's text split around start_time and duration.
type planned struct {
	key     string
	us      [2]int
	variant [3]entryText
}

type entryText struct {
	parts  [3]string
	durFst bool // a failed requisite prints duration before start_time
}

type dense struct {
	rng   *rand.Rand
	plans [][]planned
}

func newDense(rng *rand.Rand, n int) *dense {
	d := &dense{rng: rng}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	for _, role := range []string{"web", "db", "cache", "worker"} {
		used := map[int]int{}
		var plan []planned
		for s := 0; s < n; s++ {
			ki, r := 0, rng.Intn(total)
			for r >= kinds[ki].weight {
				r -= kinds[ki].weight
				ki++
			}
			k := &kinds[ki]
			c := used[ki]
			used[ki]++
			name := k.names[c%len(k.names)]
			if c >= len(k.names) {
				name += "-" + strconv.Itoa(c/len(k.names))
			}
			id, sls := name, "base."+k.area
			if k.mod == "cmd" {
				name = "/usr/local/sbin/" + name + ".sh"
			}
			if rng.Intn(2) == 0 {
				sls = "roles." + role + "." + k.area
			}
			p := planned{key: q(k.mod + "_|-" + id + "_|-" + name + "_|-" + k.fn), us: k.us}
			sub := strings.NewReplacer("{name}", name, "{id}", id)
			p.variant[0] = text(k, sub.Replace(`{}`), "true", sub.Replace(k.clean), k.extra, name, sls, id, s)
			p.variant[1] = text(k, sub.Replace(k.changes), "true", sub.Replace(k.done), "", name, sls, id, s)
			if k.failed != "" {
				p.variant[2] = text(k, sub.Replace(k.failCh), "false", sub.Replace(k.failed), "", name, sls, id, s)
			} else {
				p.variant[2] = requisite(name, sls, id, s, "base.users.deploy")
			}
			plan = append(plan, p)
		}
		d.plans = append(d.plans, plan)
	}
	return d
}

const field = "            " // a field of a state entry: three levels in

func text(k *kind, changes, result, comment, extra, name, sls, id string, run int) entryText {
	var ch bytes.Buffer
	json.Indent(&ch, []byte(changes), field, "    ")
	var head string
	if k.mod == "file" && k.fn == "managed" {
		head = fmt.Sprintf("\"changes\": %s,\n%s\"comment\": %s,\n%s\"name\": %s,\n%s\"result\": %s", &ch, field, q(comment), field, q(name), field, result)
	} else {
		head = fmt.Sprintf("\"name\": %s,\n%s\"changes\": %s,\n%s\"result\": %s,\n%s\"comment\": %s", q(name), field, &ch, field, result, field, q(comment))
	}
	if extra != "" {
		head += ",\n" + field + extra
	}
	return entryText{parts: [3]string{
		fmt.Sprintf("{\n%s%s,\n%s\"__sls__\": %s,\n%s\"__run_num__\": %d,\n%s\"start_time\": \"", field, head, field, q(sls), field, run, field),
		"\",\n" + field + "\"duration\": ",
		fmt.Sprintf(",\n%s\"__id__\": %s\n        }", field, q(id)),
	}}
}

// requisite: the entry Salt prints for a state whose requisite failed.
func requisite(name, sls, id string, run int, req string) entryText {
	return entryText{durFst: true, parts: [3]string{
		fmt.Sprintf("{\n%[1]s\"changes\": {},\n%[1]s\"result\": false,\n%[1]s\"duration\": ", field),
		",\n" + field + "\"start_time\": \"",
		fmt.Sprintf("\",\n%[1]s\"comment\": %[2]s,\n%[1]s\"__run_num__\": %[3]d,\n%[1]s\"__sls__\": %[4]s,\n%[1]s\"__id__\": %[5]s,\n%[1]s\"name\": %[6]s\n        }",
			field, q("One or more requisite failed: "+req), run, q(sls), q(id), q(name)),
	}}
}

// minion writes minion i's run of its role's plan: 98% of states clean,
// 1.5% changed, 0.5% failed, timed one after the other.
func (d *dense) minion(b *strings.Builder, i int) {
	t := int64(36000+d.rng.Intn(3600))*1e6 + int64(d.rng.Intn(1e6)) // microseconds since midnight
	for s, p := range d.plans[i%len(d.plans)] {
		v := 0
		switch r := d.rng.Intn(1000); {
		case r < 5:
			v = 2
		case r < 20:
			v = 1
		}
		e := p.variant[v]
		us := int64(p.us[0] + d.rng.Intn(p.us[1]-p.us[0]))
		if e.durFst {
			us = int64(2 + d.rng.Intn(8))
		}
		start := fmt.Sprintf("%02d:%02d:%02d.%06d", t/3600e6%24, t/60e6%60, t/1e6%60, t%1e6)
		dur := strings.TrimRight(fmt.Sprintf("%d.%03d", us/1000, us%1000), "0")
		if strings.HasSuffix(dur, ".") {
			dur += "0"
		}
		t += us + int64(200+d.rng.Intn(1300))
		if s > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("        " + p.key + ": " + e.parts[0])
		if e.durFst {
			b.WriteString(dur + e.parts[1] + start)
		} else {
			b.WriteString(start + e.parts[1] + dur)
		}
		b.WriteString(e.parts[2])
	}
}

// q quotes s as JSON does, without escaping HTML.
func q(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}
