#!/bin/sh
# saltmail package: before removal. dpkg calls it with "remove" or
# "upgrade"; rpm's %preun with 0 (erase) or 1 (upgrade). On removal,
# stop and disable the units the admin may have enabled (as rpm's
# %systemd_preun does): their binary is about to go. An upgrade leaves
# them running; the postinstall restarts the watch.
set -e
case "$1" in
remove | 0)
	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl disable --now saltmail-watch.service saltmail-flush.timer saltmail-flush.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
