#!/usr/bin/env python3
"""saltmail watch asks saltutil.find_job at a job's job_timeout, on a REAL
Salt master with two minions, and Mailpit.

Usage: e2e_watch_findjob.py SALTMAIL MAILPIT SALT_VENV

The master listens on 127.0.0.11 (free ports). The master, minions,
watch and mailbox are e2e_watch.py's (its Env), with the default
watch.find_job_command: the salt beside the event command's salt-run,
with its -c. job_timeout is 15 s.

 1. still_running_and_down: minion2 stopped, and a job on both whose
    state runs on minion1 until the test opens a gate: one digest, after
    job_timeout and find_job, naming minion1 "still running" (find_job
    found the job) and minion2 as giving no answer (down); then the gate
    opens, and minion1's late return gets a mail of its own. The
    find_job jobs (watch's own, and the CLI's) are digested by no one
    and mail nothing.
 2. not_running: a job on minion1 whose process is killed (-9) before
    job_timeout: the minion is up, the job is gone: one digest naming it
    "up, but not running the job".

Every expectation counts the new mails exactly (e2e_watch.Box).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from e2e_lib import Mailpit, Salt, finish, stop_on_sigterm, wait_for
from e2e_watch import GROUP_INTERVAL, GROUP_WAIT, Env, created, fail, log, salt_version

HOST = "127.0.0.11"
JOB_TIMEOUT = 15
# find_job with a minion down takes the salt CLI 21-22 s (-t 10, then
# gather_job_timeout 10 s); a loaded machine adds its start-up
FIND_JOB = 60
SLS = """e2e_fj_run:
  cmd.run:
{% if grains['id'] == 'minion1' %}
    - name: 'for i in $(seq 3000); do test -f {{ pillar["gate"] }} && exit 0; sleep 0.1; done; exit 1'
{% else %}
    - name: 'true'
{% endif %}
"""


def gated_job(env, target):
    """Starts e2e_fj_run on target; returns its jid and its gate."""
    env.gates += 1
    gate = os.path.join(env.root, f"fj-gate-{env.gates}")
    jid = env.async_job(target, "state.apply", "e2e_fj_run", f'pillar={{"gate": "{gate}"}}')
    return jid, gate


def watch_logs(env):
    text = ""
    for n in range(1, env.watch.n + 1):
        try:
            text += open(os.path.join(env.root, f"watch-{n}.log")).read()
        except OSError:
            pass
    return text


def still_running_and_down(env):
    env.salt.stop("minion2")
    t0 = time.time()
    jid, gate = gated_job(env, "*")
    mails = env.box.expect(1, "the digest of the job minion1 still runs and minion2 did not get",
                           JOB_TIMEOUT + FIND_JOB + 30)
    took = created(mails[0]) - t0
    text = env.box.text(mails[0])
    log(f"{env.version}: the digest came {took:.1f}s after salt --async (job_timeout {JOB_TIMEOUT}s, then find_job)")
    if took < JOB_TIMEOUT - 1:
        fail(f"the digest came {took:.1f}s after the job, before job_timeout {JOB_TIMEOUT}s")
    m1, m2 = text.find("minion1"), text.find("minion2")
    want1 = f"Minion did not return. [Still running at job_timeout {JOB_TIMEOUT}s: saltutil.find_job found the job]"
    want2 = (f"Minion did not return. [No response within job_timeout {JOB_TIMEOUT}s] "
             "[No answer to saltutil.find_job either: down or not connected]")
    if mails[0]["Subject"] != "[salt] 2 minions: 2 did not return" or jid not in text or \
            min(m1, m2) < 0 or want1 not in text[m1:] or want2 not in text[m2:]:
        fail(f"find_job digest: {mails[0]['Subject']!r}\n{text[:2000]}")
    logs = watch_logs(env)
    if f"job {jid}: saltutil.find_job answered: minion1 still running, minion2 no answer" not in logs:
        fail(f"watch's log does not say what find_job answered:\n{logs[-3000:]}")
    open(gate, "w").close()
    late = env.box.expect(1, "minion1's late return", GROUP_WAIT + 90, quiet=GROUP_WAIT + GROUP_INTERVAL + 1)
    late_text = env.box.text(late[0])
    if jid not in late_text or "minion1" not in late_text or "minion2" in late_text:
        fail(f"minion1's late return: {late[0]['Subject']!r}\n{late_text[:2000]}")
    no_find_job_digest(env)
    env.salt.start_minion("minion2")
    wait_for("minion2 back", lambda: env.salt.ping(["minion1", "minion2"]), timeout=120)


def salt_run(salt, *args):
    return subprocess.run([salt.bin("salt-run"), "-c", salt.conf, *args], capture_output=True, timeout=120).stdout


def no_find_job_digest(env):
    """No find_job job of the master's cache was digested by watch."""
    out = salt_run(env.salt, "jobs.list_jobs", "search_function=saltutil.find_job", "--out=json")
    jids = list(json.loads(out or b"{}"))
    if not jids:
        fail("the job cache holds no saltutil.find_job job: watch asked no one?")
    logs = watch_logs(env)
    digested = [j for j in jids if f"digest {j} done" in logs]
    if digested:
        fail(f"watch digested its find_job jobs {digested}")


def not_running(env):
    jid, gate = gated_job(env, "minion1")

    def pid():
        out = env.salt.salt("minion1", "saltutil.find_job", jid, "--out=json", "--static", "-t", "10").stdout
        try:
            return json.loads(out or b"{}").get("minion1", {}).get("pid")
        except ValueError:
            return None

    os.kill(wait_for("minion1 to run the job", pid, timeout=JOB_TIMEOUT - 2), signal.SIGKILL)
    mails = env.box.expect(1, "the digest of the job whose process was killed", JOB_TIMEOUT + FIND_JOB + 30)
    text = env.box.text(mails[0])
    want = (f"Minion did not return. [No response within job_timeout {JOB_TIMEOUT}s] "
            "[Up, but not running the job (saltutil.find_job): it never received it, or it ended without a return]")
    if "did not return" not in mails[0]["Subject"] or jid not in text or want not in text:
        fail(f"the killed job's digest: {mails[0]['Subject']!r}\n{text[:2000]}")
    open(gate, "w").close()  # the state's shell, orphaned, ends


SCENARIOS = [("still_running_and_down", still_running_and_down), ("not_running", not_running)]


def main():
    stop_on_sigterm()  # scripts/test runs it in the background
    saltmail, mailpit_bin, venv = sys.argv[1], sys.argv[2], sys.argv[3]
    version = salt_version(venv)
    root = tempfile.mkdtemp(prefix="saltmail-watch-findjob-")
    mp = Mailpit(mailpit_bin, root)
    salt = Salt(venv, root, host=HOST)
    env = Env(saltmail, mp, salt, root, version)
    started = time.monotonic()
    try:
        env.setup()
        with open(os.path.join(root, "srv", "salt", "e2e_fj_run.sls"), "w") as f:
            f.write(SLS)
        # the probes' returns digested (the journal empties when nothing
        # is in flight) before watch restarts with another job_timeout:
        # a return on the bus while no watch listens is lost
        wait_for("watch to digest its probes", lambda: os.path.getsize(env.watch.journal) == 0, timeout=60,
                 detail=env.watch.tail)
        env.job_timeout(JOB_TIMEOUT)
        log(f"{version}: master, 2 minions and watch up in {time.monotonic() - started:.0f}s")
        for name, scenario in SCENARIOS:
            t0 = time.monotonic()
            scenario(env)
            log(f"{version}: {name} passed in {time.monotonic() - t0:.0f}s")
        env.box.expect(0, "nothing more at the end", 0, quiet=GROUP_WAIT + GROUP_INTERVAL + 3)
        log(f"{version}: find_job: every scenario passed in {time.monotonic() - started:.0f}s, {env.box.seen} mails")
    finally:
        env.close()
        finish(mp, root)


if __name__ == "__main__":
    main()
