#!/usr/bin/env python3
"""Capture real Salt output for testdata/corpus, from a Salt virtualenv.

Usage: capture_salt.py SALT_VENV OUT_DIR [NAME...]

Runs each capture (below) against a real Salt on loopback, in a temporary
directory: `salt-call --local` for the local ones, a master with two
minions (minion1, minion2) for the others, in this order: with both
minions up; with minion2 stopped; with the master stopped. It writes
OUT_DIR/<name>.out (stdout, byte for byte; for an "events" capture, the
data of each salt/job/<jid>/ret/<minion> event the bus carried for the
job, one JSON per line, as a reactor receives it) and appends "<name>
TAB <exit status> TAB <command>" to OUT_DIR/INDEX.tsv, as the corpus's
INDEX files have it. For each capture
marked `reference`, Salt's own highstate outputter (state_output:
changes, state_verbose: False, no colour) is run on the same JSON, into
OUT_DIR/reference/<name>.changes.txt: the witness the tests compare the
mail's text with.

The captures are the shapes issue 12 names; more can be added to
CAPTURES. NAMEs pick some (default: all).
"""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_lib import wait_for  # noqa: E402
from e2e_salt import Salt  # noqa: E402

SLS = {
    # __parallel__ states: Salt's run time counts the longest of them
    # plus the others, not their sum.
    "parallel.sls": """slow_a:
  cmd.run:
    - name: sleep 0.4; echo a
    - parallel: True
slow_b:
  cmd.run:
    - name: sleep 0.6; echo b
    - parallel: True
after:
  cmd.run:
    - name: echo after; exit 3
    - require:
      - cmd: slow_a
      - cmd: slow_b
""",
}

SLS["dup.sls"] = """dup_fail:
  cmd.run:
    - name: 'printf "line one\\nline two\\n"; echo "it failed" >&2; exit 2'
dup_change:
  test.succeed_with_changes:
    - name: a change
"""

# A return larger than max_event_size reaches the master trimmed: the
# largest values become "VALUE_TRIMMED".
SLS["big.sls"] = """big_output:
  cmd.run:
    - name: python3 -c 'print("x" * 300000)'; exit 1
"""

# A nested orchestration: a step that runs state.orchestrate itself.
SLS["orch/outer.sls"] = """inner_orch:
  salt.runner:
    - name: state.orchestrate
    - mods: orch.inner
after_inner:
  salt.function:
    - name: test.echo
    - tgt: minion1
    - arg: [done]
    - require:
      - salt: inner_orch
"""
SLS["orch/inner.sls"] = """inner_step:
  salt.state:
    - tgt: minion1
    - sls: dup
"""

LOW_FAIL = '{"state": "cmd", "fun": "run", "name": "exit 1", "__id__": "low_fail"}'
LOW_OK = '{"state": "test", "fun": "succeed_with_changes", "name": "ok", "__id__": "low_ok"}'

# name: (kind, salt arguments, make a reference). Kinds: local
# (salt-call --local), master (salt, both minions up), events (the same,
# capturing the job's return events instead), down (salt, minion2
# stopped), list_job (a state job with minion2 stopped, then salt-run
# jobs.list_job of it), nomaster (salt, the master stopped).
CAPTURES = {
    "state.low.fail.json": ("local", ["state.low", LOW_FAIL, "--out=json"], False),
    "state.low.ok.json": ("local", ["state.low", LOW_OK, "--out=json"], False),
    "state.apply.parallel.json": ("local", ["state.apply", "parallel", "--out=json"], True),
    "events.state.low.fail": ("events", ["minion1", "state.low", LOW_FAIL], False),
    # one job seen twice: as the reactor sees it and as salt prints it
    # (written beside the events as salt.state.apply.dup.json.out)
    "events.state.apply.dup": ("events", ["minion1", "state.apply", "dup"], False),
    # every event of a job on the bus (Salt 3008: a start event per
    # minion with --start-event; salt/batch/<jid>/... events in batch mode)
    "bus.state.apply.start-event": ("bus", ["minion1", "state.apply", "dup", "--start-event"], False),
    "bus.state.apply.batch": ("bus", ["-b", "1", "*", "state.apply", "dup"], False),
    # max_event_size 100000 on master and minion1 (minion2 stopped)
    "events.state.apply.trimmed": ("trimmed", ["minion1", "state.apply", "big"], False),
    "salt-run.state.orchestrate.nested.json": ("run", ["state.orchestrate", "orch.outer", "--out=json"], True),
    "salt.nomatch.state.apply.json": ("master", ["nomatch*", "state.apply", "parallel", "--out=json"], False),
    "salt-run.jobs.list_job.minion2-down.json": ("list_job", ["*", "state.apply", "parallel", "-t", "5"], False),
    "salt.state.apply.master-down.json": ("nomaster", ["*", "state.apply", "parallel", "--out=json"], False),
}
ORDER = ["local", "master", "run", "events", "bus", "trimmed", "down", "list_job", "nomaster"]

HIGHSTATE = """import json, sys
import salt.config, salt.output
opts = salt.config.minion_config(None)
opts.update(color=False, state_output="changes", state_verbose=False)
print(salt.output.out_format(json.load(open(sys.argv[1])), "highstate", opts))
"""


def main():
    venv, out = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(CAPTURES)
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    root = tempfile.mkdtemp(prefix="saltmail-capture-")
    salt = Salt(venv, root)
    try:
        srv = os.path.join(root, "srv", "salt")
        os.makedirs(srv)
        for name, text in SLS.items():
            os.makedirs(os.path.dirname(os.path.join(srv, name)), exist_ok=True)
            with open(os.path.join(srv, name), "w") as f:
                f.write(text)
        for kind in ORDER:
            todo = [n for n in names if CAPTURES[n][0] == kind]
            if todo:
                prepare(salt, kind)
            for name in todo:
                capture(salt, out, name, *CAPTURES[name])
    finally:
        salt.stop_all()
        shutil.rmtree(root, ignore_errors=True)


def prepare(salt, kind):
    """Brings the master and minions to what the kind of capture needs."""
    if kind in ("master", "run", "events", "bus") and "master" not in salt.procs:
        salt.start_master()
        salt.start_minion("minion1")
        salt.start_minion("minion2")
        wait_for("both minions to answer", lambda: salt.ping(["minion1", "minion2"]), timeout=120)
    elif kind == "trimmed":
        for name in list(salt.procs):
            salt.stop(name)
        with open(os.path.join(salt.conf, "master"), "a") as f:
            f.write("max_event_size: 100000\n")
        salt.start_master()
        salt.start_minion("minion1")  # writes its config: add the bound, start it again
        salt.stop("minion1")
        minion = os.path.join(salt.root, "minion1")
        with open(os.path.join(minion, "minion"), "a") as f:
            f.write("max_event_size: 100000\n")
        salt.start("minion1", [salt.bin("salt-minion"), "-c", minion])
        wait_for("minion1 to answer", lambda: salt.ping(["minion1"]), timeout=120)
    elif kind in ("down", "list_job") and "minion2" in salt.procs:
        salt.stop("minion2")
    elif kind == "nomaster":
        for name in list(salt.procs):
            salt.stop(name)


def capture(salt, out, name, kind, args, reference):
    conf = ["-c", salt.conf]
    if kind == "local":
        res = subprocess.run([salt.bin("salt-call"), "--local", "-c", salt.local, *args], capture_output=True, timeout=300)
        shown = "salt-call --local -c CONF " + " ".join(quote(a) for a in args)
        data = res.stdout
    elif kind in ("events", "trimmed"):
        res, data = job_events(salt, args)
        cli = name.replace("events.", "salt.", 1) + ".json"
        with open(os.path.join(out, cli + ".out"), "wb") as f:
            f.write(res.stdout)
        with open(os.path.join(out, "INDEX.tsv"), "a") as f:
            f.write(f"{cli}\t{res.returncode}\tsalt -c CONF --out=json {' '.join(quote(a) for a in args)}\n")
        shown = "salt-run -c CONF state.event 'salt/job/*/ret/*' pretty=False, during: salt -c CONF " + " ".join(quote(a) for a in args)
    elif kind == "bus":
        res, data = job_events(salt, args, every=True)
        shown = "salt-run -c CONF state.event '(salt/job/|salt/batch/).*' pretty=False, during: salt -c CONF " + " ".join(quote(a) for a in args)
    elif kind == "list_job":
        job = subprocess.run([salt.bin("salt"), *conf, "--async", *args], capture_output=True, text=True, timeout=300)
        jid = job.stdout.strip().rsplit(" ", 1)[-1]
        wait_for("the job to end", lambda: not running(salt, jid), timeout=120)
        res = subprocess.run([salt.bin("salt-run"), *conf, "jobs.list_job", jid, "--out=json"], capture_output=True, timeout=300)
        shown = f"salt -c CONF --async {' '.join(quote(a) for a in args)} (minion2 stopped); salt-run -c CONF jobs.list_job JID --out=json"
        data = res.stdout
    else:
        prog = "salt-run" if kind == "run" else "salt"
        res = subprocess.run([salt.bin(prog), *conf, *args], capture_output=True, timeout=300)
        shown = prog + " -c CONF " + " ".join(quote(a) for a in args)
        data = res.stdout
    path = os.path.join(out, name + ".out")
    with open(path, "wb") as f:
        f.write(data)
    with open(os.path.join(out, "INDEX.tsv"), "a") as f:
        f.write(f"{name}\t{res.returncode}\t{shown}\n")
    if reference:
        ref = subprocess.run([salt.bin("python"), "-c", HIGHSTATE, path], capture_output=True, check=True)
        with open(os.path.join(out, "reference", name + ".changes.txt"), "wb") as f:
            f.write(ref.stdout)
    print(f"{name}: exit {res.returncode}, {len(res.stdout)} bytes")


def running(salt, jid):
    """Whether the job still runs on a minion that answers."""
    res = subprocess.run([salt.bin("salt-run"), "-c", salt.conf, "jobs.active", "--out=json"], capture_output=True)
    return jid.encode() in res.stdout


def job_events(salt, args, every=False):
    """Runs salt ARGS while salt-run state.event reads the bus; returns
    the salt run and the data of the job's return events, a line each
    (every: of all its job and batch events, until the returns are in
    and the bus is quiet for 3 s)."""
    tags = "(salt/job/|salt/batch/).*" if every else "salt/job/*/ret/*"
    bus = subprocess.Popen([salt.bin("salt-run"), "-c", salt.conf, "state.event", tags, "pretty=False"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(3)  # the runner must be listening before the job starts
        res = subprocess.run([salt.bin("salt"), "-c", salt.conf, "--out=json", *args], capture_output=True, timeout=300)
        minions = set()
        for doc in re.findall(r"(?m)^\{.*?^\}$", res.stdout.decode(), re.S):
            minions.update(k for k in json.loads(doc) if k not in ("jid", "retcode"))
        lines, rets = [], 0
        while rets < len(minions) or (every and select.select([bus.stdout], [], [], 3)[0]):
            tag, _, data = bus.stdout.readline().partition("\t")
            if not data:
                continue
            if tag.startswith("salt/job/") and "/ret/" in tag:
                rets += 1
            elif not every:
                continue
            lines.append(json.dumps(json.loads(data), sort_keys=True) + "\n")
        return res, "".join(lines).encode()
    finally:
        bus.terminate()
        bus.wait(timeout=15)


def quote(a):
    return "'" + a + "'" if any(c in a for c in " {}\"*") else a


if __name__ == "__main__":
    main()
