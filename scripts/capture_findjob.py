#!/usr/bin/env python3
"""Capture what `salt -L ... saltutil.find_job <jid>` prints on a real Salt.

Usage: capture_findjob.py SALT_VENV OUT_DIR

Starts a master on 127.0.0.11 (free ports) with three minions in a
temporary directory, runs a job on all three with --async whose state
runs on minion1 until the capture ends (minion2 returns at once), stops
minion3, and asks the three with saltutil.find_job, as saltmail watch
does at a job's job_timeout. It writes to OUT_DIR
(watch/testdata/findjob/salt-<version>), appending "<name> TAB <exit
status> TAB <command>" to OUT_DIR/INDEX.tsv:

- find_job.running-done-stopped.json.out: minion1 still runs the job,
  minion2 is up and ran it to its end, minion3 is stopped;
- find_job.running-unknown.json.out: minion1 and a minion with no key;
- find_job.stopped.json.out: only minion3 (stopped) asked;
- find_job.unknown.json.out: only a minion with no key asked;
- find_job.killed.json.out: minion1 again, once its job's process was
  killed (-9): the minion is up, the job died without returning.

Each command's time is printed (not kept: it varies with the load).
"""
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import Salt, wait_for  # noqa: E402

HOST = "127.0.0.11"
SLS = """findjob_sleep:
  cmd.run:
{% if grains['id'] == 'minion1' %}
    - name: 'for i in $(seq 6000); do test -f {{ pillar["gate"] }} && exit 0; sleep 0.1; done'
{% else %}
    - name: 'true'
{% endif %}
"""
FIND_JOB = ["--out=json", "--static", "-t", "10", "-L"]


def save(out, name, res, shown):
    with open(os.path.join(out, name + ".out"), "wb") as f:
        f.write(res.stdout)
    with open(os.path.join(out, "INDEX.tsv"), "a") as f:
        f.write(f"{name}\t{res.returncode}\t{shown}\n")


def find_job(salt, out, name, minions, jid):
    t0 = time.monotonic()
    res = salt.salt(*FIND_JOB, ",".join(minions), "saltutil.find_job", jid, timeout=300)
    print(f"{name}: exit {res.returncode} in {time.monotonic() - t0:.1f}s\n"
          f"stdout: {res.stdout.decode()}\nstderr: {res.stderr.decode()[-2000:]}", flush=True)
    shown = f"salt -c CONF {' '.join(FIND_JOB)} {','.join(minions)} saltutil.find_job <jid>"
    save(out, name, res, shown)


def lookup(salt, jid):
    return subprocess.run([salt.bin("salt-run"), "-c", salt.conf, "jobs.lookup_jid", jid, "--out=json"],
                          capture_output=True, timeout=120).stdout


def main():
    venv, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    root = tempfile.mkdtemp(prefix="saltmail-capture-findjob-")
    salt = Salt(venv, root, host=HOST)
    gate = os.path.join(root, "gate")
    try:
        os.makedirs(os.path.join(root, "srv", "salt"))
        with open(os.path.join(root, "srv", "salt", "findjob.sls"), "w") as f:
            f.write(SLS)
        salt.start_master()
        for m in ("minion1", "minion2", "minion3"):
            salt.start_minion(m)
        wait_for("three minions", lambda: salt.ping(["minion1", "minion2", "minion3"]), timeout=180)
        job = salt.salt("--async", "*", "state.apply", "findjob", f'pillar={{"gate": "{gate}"}}')
        jid = job.stdout.decode().strip().rsplit(" ", 1)[-1]
        print("jid", jid, flush=True)
        salt.stop("minion3")
        # minion2's return in the job cache: it ran the job to its end
        wait_for("minion2's return", lambda: b"minion2" in lookup(salt, jid), timeout=120)
        three = ["minion1", "minion2", "minion3"]
        find_job(salt, out, "find_job.running-done-stopped.json", three, jid)
        find_job(salt, out, "find_job.running-unknown.json", ["minion1", "nosuchminion"], jid)
        find_job(salt, out, "find_job.stopped.json", ["minion3"], jid)
        find_job(salt, out, "find_job.unknown.json", ["nosuchminion"], jid)
        running = json.loads(open(os.path.join(out, "find_job.running-done-stopped.json.out")).read())
        os.kill(running["minion1"]["pid"], signal.SIGKILL)  # the job's process dies: no return
        find_job(salt, out, "find_job.killed.json", ["minion1"], jid)
        open(gate, "w").close()
    finally:
        salt.stop_all()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
