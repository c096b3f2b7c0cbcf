#!/usr/bin/env python3
"""Capture what saltmail watch reads besides the bus, from a real Salt.

Usage: capture_watch.py SALT_VENV OUT_DIR

Starts a master on 127.0.0.3 (free ports, so it never meets another
test's master on 127.0.0.1:4505/4506) with two minions in a temporary
directory, and writes to OUT_DIR (testdata/corpus/salt-<version>/watch:
a directory of its own, since these are no inputs of saltmail's and the
corpus tests read every salt-*/*.out), appending "<name> TAB <exit status> TAB
<command>" to OUT_DIR/INDEX.tsv as the corpus's INDEX files have it:

- salt-key.L.json.out: `salt-key -L --out=json` (the known minions of
  watch.expect);
- salt-run.jobs.list_jobs.json.out and salt-run.jobs.lookup_jid.missing
  .json.out: a state job run with --async while minion2 was stopped, as
  the job cache lists it and as lookup_jid missing=True shows it
  (reconcile after a restart);
- bus.scheduled.ret.out: one scheduled state return event as state.event
  prints it (TAG TAB JSON): the `schedule` field the dead-man rules read.
"""
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.3"
SLS = """dup_fail:
  cmd.run:
    - name: 'echo "it failed" >&2; exit 2'
dup_change:
  test.succeed_with_changes:
    - name: a change
"""


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=120.0):
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            sys.exit("capture_watch: timed out waiting for " + what)
        time.sleep(0.5)


class Salt:
    def __init__(self, venv, root):
        self.venv, self.root, self.procs = venv, root, {}
        self.conf = os.path.join(root, "etc", "salt")
        self.pub, self.ret = free_port(), free_port()
        os.makedirs(self.conf)
        os.makedirs(os.path.join(root, "srv", "salt"))
        with open(os.path.join(root, "srv", "salt", "dup.sls"), "w") as f:
            f.write(SLS)
        with open(os.path.join(self.conf, "master"), "w") as f:
            f.write(f"root_dir: {root}\ninterface: {HOST}\npublish_port: {self.pub}\nret_port: {self.ret}\n"
                    f"auto_accept: True\nuser: {getpass.getuser()}\nworker_threads: 2\n"
                    f"file_roots:\n  base: [{root}/srv/salt]\nlog_file: {root}/master.log\n")

    def bin(self, name):
        return os.path.join(self.venv, "bin", name)

    def start(self, name, args):
        log = open(os.path.join(self.root, name + ".out"), "w")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start_minion(self, mid, extra=""):
        d = os.path.join(self.root, mid)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "minion"), "w") as f:
            f.write(f"id: {mid}\nroot_dir: {d}\nmaster: {HOST}\nmaster_port: {self.ret}\npublish_port: {self.pub}\n"
                    f"user: {getpass.getuser()}\nlog_file: {d}/minion.log\nacceptance_wait_time: 1\n"
                    f"random_reauth_delay: 0\n{extra}")
        self.start(mid, [self.bin("salt-minion"), "-c", d])

    def stop(self, name):
        p = self.procs.pop(name)
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=15)

    def run(self, tool, *args):
        return subprocess.run([self.bin(tool), "-c", self.conf, *args], capture_output=True, timeout=300)

    def ping(self, minions):
        out = self.run("salt", "*", "test.ping", "--out=json", "--static", "-t", "3").stdout
        try:
            return all(json.loads(out or b"{}").get(m) is True for m in minions)
        except ValueError:
            return False


def save(out, name, res, shown, data=None):
    with open(os.path.join(out, name + ".out"), "wb") as f:
        f.write(res.stdout if data is None else data)
    with open(os.path.join(out, "INDEX.tsv"), "a") as f:
        f.write(f"{name}\t{res.returncode}\t{shown}\n")


def main():
    venv, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    root = tempfile.mkdtemp(prefix="saltmail-capture-watch-")
    salt = Salt(venv, root)
    try:
        salt.start("master", [salt.bin("salt-master"), "-c", salt.conf])
        schedule = "schedule:\n  highstate:\n    function: state.apply\n    args: [dup]\n    seconds: 20\n"
        salt.start_minion("minion1", schedule)
        salt.start_minion("minion2")
        wait_for("both minions", lambda: salt.ping(["minion1", "minion2"]))
        save(out, "salt-key.L.json", salt.run("salt-key", "-L", "--out=json"), "salt-key -c CONF -L --out=json")
        scheduled_return(salt, out)
        salt.stop("minion2")
        before = time.strftime("%Y-%m-%d %H:%M:%S")
        job = salt.run("salt", "--async", "*", "state.apply", "dup")
        jid = job.stdout.decode().strip().rsplit(" ", 1)[-1]
        wait_for("minion1's return", lambda: b"dup_fail" in salt.run("salt-run", "jobs.lookup_jid", jid, "--out=json").stdout)
        res = salt.run("salt-run", "jobs.list_jobs", "search_function=state.*", "start_time=" + before, "--out=json")
        save(out, "salt-run.jobs.list_jobs.json", res, "salt-run -c CONF jobs.list_jobs search_function='state.*' start_time='<before the job>' --out=json, after: salt --async '*' state.apply dup (minion2 stopped)")
        res = salt.run("salt-run", "jobs.lookup_jid", jid, "missing=True", "--out=json")
        save(out, "salt-run.jobs.lookup_jid.missing.json", res, "salt-run -c CONF jobs.lookup_jid <jid> missing=True --out=json, of that job")
    finally:
        for name in list(salt.procs):
            salt.stop(name)
        shutil.rmtree(root, ignore_errors=True)


def scheduled_return(salt, out):
    """Reads the bus until minion1's scheduled run returns."""
    bus = subprocess.Popen([salt.bin("salt-run"), "-c", salt.conf, "state.event", "salt/job/*/ret/*", "pretty=False"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        while True:
            line = bus.stdout.readline()
            if not line:
                sys.exit("capture_watch: the bus ended before a scheduled return")
            if '"schedule"' in line:
                break
    finally:
        bus.terminate()
        bus.wait(timeout=15)
    res = subprocess.CompletedProcess([], 0, b"", b"")
    save(out, "bus.scheduled.ret", res, "salt-run -c CONF state.event 'salt/job/*/ret/*' pretty=False, minion1 with schedule highstate (state.apply dup every 20 s)", line.encode())


if __name__ == "__main__":
    main()
