#!/bin/sh
# saltmail package: after removal. dpkg calls it with "remove", "purge",
# "upgrade"...; rpm's %postun with 0 (erase) or 1 (upgrade).
#
# remove (dpkg -r) and rpm -e keep the config (dpkg keeps conffiles, rpm
# keeps a changed %config as .rpmsave) and the spool and state dir when
# they hold anything: undelivered alerts, the memory of what was
# reported. purge (dpkg -P) removes those two as well: dpkg removes the
# config itself. rpm has no purge; remove the dirs by hand.
set -e

root=${DPKG_ROOT:-}

case "$1" in
purge)
	rm -rf "$root/var/spool/saltmail" "$root/var/spool/saltmail-state"
	;;
esac

case "$1" in
remove | purge | 0)
	if [ -z "$root" ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
