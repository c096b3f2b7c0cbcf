#!/bin/sh
# saltmail package: after install and upgrade. dpkg calls it with
# "configure" (then the version configured before, if any); rpm's %post
# with 1 (install) or 2 (upgrade). It enables nothing: the systemd units
# stay disabled, no reactor or cron line is written.
#
# What it does: give the spool, the state dir and the config's group to
# the salt-master's user, who runs saltmail (reactor, cron, the watch
# unit). saltmail refuses a spool or state dir owned by anyone but root
# or the user running it, so a root-owned spool would fail every run of
# a master that runs as `salt`, and that user could not read a
# root:root 0640 config.
#
# $DPKG_ROOT is dpkg's prefix for an install under --root (empty for a
# normal install); the test uses it to try the detection on a tree of
# its own.
set -e

case "$1" in
configure | 1 | 2) ;;
*) exit 0 ;; # dpkg's abort-upgrade, abort-remove...: nothing to redo
esac

root=${DPKG_ROOT:-}

# master_user prints the salt-master's user:
# 1. the last `user:` of /etc/salt/master, then /etc/salt/master.d/*.conf
#    in order, as salt-master reads them (and as the Salt installer state
#    in examples/salt/saltmail finds it);
# 2. else the owner of /var/cache/salt/master: Salt's own packages chown
#    it to the user they run the master as (their preinst reads the
#    owner of /run/salt/master the same way);
# 3. else `salt` if that user exists (Salt's packages make it), else
#    root (a master installed with pip or bootstrap, or none yet).
master_user() {
	found=
	for f in "$root/etc/salt/master" "$root"/etc/salt/master.d/*.conf; do
		[ -f "$f" ] || continue
		# `user: salt`, `user: "salt"  # comment`; nested keys are indented
		u=$(sed -n "s/^user:[[:space:]]*[\"']\{0,1\}\([^\"'[:space:]#]*\).*/\1/p" "$f" | tail -n 1)
		[ -z "$u" ] || found=$u
	done
	if [ -z "$found" ] && [ -d "$root/var/cache/salt/master" ]; then
		found=$(stat -c %U "$root/var/cache/salt/master")
	fi
	if [ -z "$found" ] && getent passwd salt >/dev/null; then
		found=salt
	fi
	if [ -n "$found" ] && getent passwd "$found" >/dev/null; then
		echo "$found"
	else
		echo root
	fi
}

user=$(master_user)
group=$(id -gn "$user")

# The dirs the package made are root's. Hand a root-owned one to the
# master's user (with what root left in it, as the installer state
# does); one that belongs to another user already was set by the admin
# or an earlier install and is left alone.
for dir in "$root/var/spool/saltmail" "$root/var/spool/saltmail-state"; do
	[ -d "$dir" ] || continue
	if [ "$user" != root ] && [ "$(stat -c %u "$dir")" = 0 ]; then
		chown -R "$user:$group" "$dir"
	fi
done

# The config: readable by the master's group, writable by root only. A
# group other than root's was chosen by the admin (or a config with a
# password chowned to the user, 0600): left alone.
conf="$root/etc/salt/saltmail.yaml"
if [ -f "$conf" ] && [ "$group" != root ] && [ "$(stat -c %g "$conf")" = 0 ]; then
	chgrp "$group" "$conf"
fi

echo "saltmail: the master's user is $user: it owns $root/var/spool/saltmail and $root/var/spool/saltmail-state; $conf is in group $group"

# New or changed unit files: tell a running systemd (nothing is
# enabled), and restart a watch the admin runs so the new binary watches
# (try-restart starts nothing that is stopped). Its journal of jobs in
# flight carries over.
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	systemctl try-restart saltmail-watch.service >/dev/null 2>&1 || true
fi
exit 0
