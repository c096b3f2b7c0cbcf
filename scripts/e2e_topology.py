#!/usr/bin/env python3
"""saltmail watch on REAL Salt topologies: a syndic under a master of
masters, and two hot-hot masters. Mailpit receives the mails.

Usage: e2e_topology.py SALTMAIL MAILPIT SALT_VENV [SCENARIO ...]

Masters listen on 127.0.0.7-127.0.0.10 (free ports), apart from the
masters the other end-to-end tests run on 127.0.0.1-127.0.0.6. Each
`saltmail watch` runs with the default event command given -c for its
master, and each mail is read back through Mailpit's API: every
expectation counts the new mails exactly and waits a quiet period more,
and the run's count is exact, so a mail that comes late fails.

 1. syndic: a master of masters (order_masters: True, 127.0.0.7) with
    watch; below it a master with its salt-syndic (127.0.0.8, syndic id
    syn1) and two minions, sm1 and sm2:
    a. a highstate published on the master of masters, one state
       failing on each minion: exactly one mail, naming sm1 and sm2,
       never syn1 (a relay, not a minion: not "did not return");
    b. test.ping and a clean state.apply from the master of masters:
       the clean job's digest is done with no mail;
    c. a failing job published on the syndic's own master (the master
       of masters has no /new for it): one mail;
    d. a failing scheduled highstate on sm1 and sm2 (no /new anywhere;
       the return reaches the master of masters under the syndic
       master's jid): one mail;
    e. watch stopped, a failing highstate published on the master of
       masters and a failing job on the syndic's master, both returned,
       watch started again: the highstate is found in the job cache
       (which names syn1 as a minion that did not return): one mail,
       naming sm1 and sm2, not syn1; the other job the cache cannot
       look up: watch says so and runs on (a GAP line: not mailed);
 2. two_masters: masters A (127.0.0.9, with watch) and B (127.0.0.10)
    sharing A's master key; minion mm1 has `master: [A, B]`:
    a. a failing highstate published on A: one mail;
    b. a failing highstate published on B: no mail from A's watch;
    c. a failing scheduled highstate (its return goes to both masters,
       each under a jid of its own): one mail.

Scenarios may be named on the command line to run only those. With
E2E_TOPO_CAPTURE=DIR, every master's bus is also written, as
`salt-run state.event pretty=False` prints it, to DIR/<master>.bus, and
what the job cache says of the jobs watch reconciles, to DIR/*.json.out.
E2E_TOPO_SYNDIC_VENV=VENV runs the syndic node (its master, salt-syndic
and minions) on another Salt than the master of masters: salt-syndic
3008.4 never connects (it hangs in its start event), so a 3008.4 master
of masters is tested with a syndic node of another line.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import e2e_watch
from e2e_lib import Mailpit, Salt, finish, stop_on_sigterm, wait_for
from e2e_watch import Box, Fire, Watch, ready, salt_version, wait_until, write_config

MOM_HOST, SYNDIC_HOST, A_HOST, B_HOST = "127.0.0.7", "127.0.0.8", "127.0.0.9", "127.0.0.10"
SYNDIC_ID = "syn1"
# job_timeout: long enough for a loaded machine (2 CPUs shared: a minion
# has taken 14 s to return a trivial job), and a job through a syndic
# waits for its syndic_wait (5 s) on top
JOB_TIMEOUT, GROUP_WAIT, GROUP_INTERVAL = 60, 5, 2
QUIET = 5  # how long nothing more may arrive after an expected mail
TO = "topology@example.com"

# the highstate (one failing and one changing state a minion) and the
# clean job are e2e_watch's; the failure below the syndic is this run's
SLS = {name: e2e_watch.SLS[name] for name in ("top.sls", "e2e_w_mixed.sls", "e2e_w_clean.sls")}
SLS["e2e_t_fail.sls"] = """e2e_t_fail:
  test.fail_without_changes:
    - name: a failure below the syndic on {{ grains['id'] }}
"""


def fail(msg):
    sys.exit("e2e topology: " + msg)


def log(msg):
    print(f"e2e topology: {msg}", flush=True)


# the helpers taken from e2e_watch fail with this script's name
e2e_watch.fail = fail


def write_sls(salt):
    srv = os.path.join(salt.root, "srv", "salt")
    os.makedirs(srv, exist_ok=True)
    for name, text in SLS.items():
        with open(os.path.join(srv, name), "w") as f:
            f.write(text)


def answered(salt, minions, *args, timeout=60):
    """Runs a salt command; its JSON answer, which must name minions."""
    out = salt.salt(*args, "--out=json", "--static", "-t", str(timeout), timeout=timeout + 60)
    try:
        got = json.loads(out.stdout or b"{}")
    except ValueError:
        got = {}
    if sorted(got) != sorted(minions):
        fail(f"salt {' '.join(args)} on {salt.host}: answered by {sorted(got)}, want {sorted(minions)}: "
             f"{out.stdout[:1500]!r} {out.stderr[-1500:]!r}")
    return got


def pings(salt, minions):
    out = salt.salt("*", "test.ping", "--out=json", "--static", "-t", "10", timeout=60).stdout
    try:
        got = json.loads(out or b"{}")
    except ValueError:
        return False
    return all(got.get(m) is True for m in minions)


def async_job(salt, *args):
    out = salt.salt("--async", *args)
    m = re.search(rb"job ID: (\d{20})", out.stdout)
    if not m:
        fail(f"salt --async {args} on {salt.host}: {out.stdout!r} {out.stderr!r}")
    return m.group(1).decode()


def lookup(salt, jid):
    """A job's returns as salt's job cache holds them."""
    out = subprocess.run([salt.bin("salt-run"), "-c", salt.conf, "jobs.lookup_jid", jid, "--out=json"],
                         capture_output=True, timeout=120).stdout
    try:
        return json.loads(out or b"{}")
    except ValueError:
        return {}


def pings_through(salt, minions):
    """Whether minions answer a test.ping published on salt, a master of
    masters. Its CLI waits for the whole timeout there (the syndic's id
    is one of the job's minions and never returns), so the job is
    published with --async and its returns read from the job cache."""
    jid = async_job(salt, "*", "test.ping")
    end = time.monotonic() + 20
    while time.monotonic() < end:
        got = lookup(salt, jid)
        if all(got.get(m) is True for m in minions):
            return True
        time.sleep(1)
    return False


class Topology:
    """Masters, their minions, and one watch on one of the masters."""

    def __init__(self, env, name):
        self.env, self.name = env, name
        self.root = os.path.join(env.root, name)
        os.makedirs(self.root)
        self.salts, self.captures = [], []
        self.watch = self.fire = None

    def salt(self, name, host, extra_master_config="", venv=None):
        s = Salt(venv or self.env.venv, os.path.join(self.root, name), host=host,
                 extra_master_config=extra_master_config)
        s.name = name
        self.salts.append(s)
        write_sls(s)
        return s

    def capture(self, salt):
        """With E2E_TOPO_CAPTURE, every event of salt's bus to a file."""
        if not self.env.capture_dir:
            return
        out = open(os.path.join(self.env.capture_dir, f"{self.name}-{salt.name}.bus"), "w")
        self.captures.append(subprocess.Popen(
            [salt.bin("salt-run"), "-c", salt.conf, "state.event", "pretty=False"],
            stdout=out, stderr=subprocess.DEVNULL, start_new_session=True))

    def keep_output(self, salt, name, *args):
        """With E2E_TOPO_CAPTURE, what a salt-run that watch runs prints,
        to DIR/<topology>-<master>.<name>.json.out, and a line "<file>
        TAB <exit status> TAB <command>" in DIR/INDEX.tsv."""
        if not self.env.capture_dir:
            return
        argv = [salt.bin("salt-run"), "-c", salt.conf, *args, "--out=json"]
        out = subprocess.run(argv, capture_output=True, timeout=120)
        name = f"{self.name}-{salt.name}.{name}.json.out"
        with open(os.path.join(self.env.capture_dir, name), "wb") as f:
            f.write(out.stdout)
        with open(os.path.join(self.env.capture_dir, "INDEX.tsv"), "a") as f:
            f.write(f"{name}\t{out.returncode}\tsalt-run {' '.join(args)} --out=json\n")

    def start_watch(self, salt):
        config = os.path.join(self.root, "saltmail.yaml")
        write_config(config, self.root, self.env.mp.smtp, TO, salt, JOB_TIMEOUT, GROUP_WAIT, GROUP_INTERVAL)
        self.fire = Fire(salt)
        self.watch = Watch(self.env.saltmail, config, self.root)
        self.watch.start()
        ready(self.watch, self.fire, f"watch on {salt.name}")

    def close(self):
        if self.watch:
            self.watch.stop()
        if self.fire:
            self.fire.proc.kill()
        for p in self.captures:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        for s in self.salts:
            s.stop_all(signal.SIGKILL)


def mail_text(env, what, timeout, subject, has=(), lacks=()):
    """Exactly one new mail within timeout and none more for QUIET: its
    subject must be subject (a string, or a pattern to match whole),
    its text hold every string of has and none of lacks."""
    t0 = time.monotonic()
    mails = env.box.expect(1, what, timeout, quiet=QUIET)
    took = time.monotonic() - t0
    text = env.box.text(mails[0])
    got = mails[0]["Subject"]
    subject_ok = re.fullmatch(subject, got) if isinstance(subject, re.Pattern) else got == subject
    if not subject_ok or any(s not in text for s in has) or any(s in got + text for s in lacks):
        fail(f"{what}: {got!r} (want {subject!r}, with {list(has)}, without {list(lacks)}):\n{text[:3000]}")
    log(f"{env.version}: {what}: {got!r}, {took:.0f}s")
    return text


def watched(env, topo, what, timeout):
    """Waits for a new mail while watch runs; fails at once, with its
    log, if watch dies meanwhile."""
    wait_for(what, lambda: env.mp.count() > env.box.seen or topo.watch.proc.poll() is not None, timeout=timeout)
    if topo.watch.proc.poll() is not None:
        fail(f"watch died (exit {topo.watch.proc.poll()}) waiting for {what}:\n{topo.watch.tail()}")


def no_mail(env, what, quiet=GROUP_WAIT + GROUP_INTERVAL + QUIET):
    env.box.expect(0, what, 0, quiet=quiet)


def syndic(env):
    """A master of masters with watch, a syndic node below it, two
    minions below the syndic."""
    topo = env.topology = Topology(env, "syndic")
    mom = topo.salt("mom", MOM_HOST, "order_masters: True\n")
    low = topo.salt("low", SYNDIC_HOST, Salt.syndic_master_config(mom), venv=env.syndic_venv)
    minions = ["sm1", "sm2"]
    t0 = time.monotonic()
    if env.syndic_venv != env.venv:
        log(f"{env.version}: the syndic node (its master, salt-syndic and minions) runs "
            f"{salt_version(env.syndic_venv)}")
    mom.start_master()
    low.start_master()
    for m in minions:
        low.start_minion(m)
    # salt-syndic once its master answers, as its service starts after
    # the master's
    wait_for("sm1 and sm2 to answer their master", lambda: pings(low, minions), timeout=150)
    low.start_syndic(SYNDIC_ID, mom)
    wait_for("salt-syndic to connect to the master of masters", lambda: syndic_connected(low), timeout=90,
             detail=lambda: "salt-syndic 3008.4 hangs there for good (it fires its start event with a "
                            "synchronous request inside its event loop: fire_master_syndic_start); give "
                            "E2E_TOPO_SYNDIC_VENV another Salt for the syndic node")
    wait_for("sm1 and sm2 to answer the master of masters through syn1", lambda: pings_through(mom, minions),
             timeout=150)
    topo.capture(mom)
    topo.capture(low)
    topo.start_watch(mom)
    log(f"{env.version}: master of masters, syndic, 2 minions and watch up in {time.monotonic() - t0:.0f}s")
    try:
        syndic_scenarios(env, topo, mom, low, minions)
    finally:
        topo.close()
        env.topology = None


def syndic_connected(low):
    try:
        return "Syndic successfully connected" in open(os.path.join(low.root, "syndic", "syndic.log")).read()
    except OSError:
        return False


def syndic_scenarios(env, topo, mom, low, minions):
    # The jobs of the master of masters are published with --async: its
    # CLI, with --static or not, waits for syn1 until the timeout.
    # a: a highstate from the top: one mail, naming the minions, not syn1
    jid = async_job(mom, "*", "state.highstate")
    mail_text(env, "the highstate published on the master of masters", JOB_TIMEOUT + 30,
              subject="[salt] 2 minions: 2 failed, 2 changed",
              has=(f"job state.highstate {jid}", "a failure on sm1", "a failure on sm2"),
              lacks=(SYNDIC_ID, "did not return"))
    # b: test.ping, then a clean job of a list target (its /new on the
    # master of masters names no minion: they have no key there): the
    # clean job's digest is done, with no mail
    async_job(mom, "*", "test.ping")
    jid = async_job(mom, "-L", ",".join(minions), "state.apply", "e2e_w_clean")
    wait_for("the clean job's digest on the master of masters (no mail)", lambda: topo.watch.digested(jid),
             timeout=JOB_TIMEOUT + 30, detail=topo.watch.tail)
    if sorted(lookup(mom, jid)) != minions:
        fail(f"the clean job's digest was done before sm1 and sm2 returned: {lookup(mom, jid)}")
    no_mail(env, "a clean state.apply and test.ping through the syndic")
    # c: a job of the syndic's own master: no /new on the master of masters
    jid = below = async_job(low, "*", "state.apply", "e2e_t_fail")
    mail_text(env, "a job published on the syndic's master", JOB_TIMEOUT + 30,
              subject="[salt] 2 minions: 2 failed",
              has=(jid, "a failure below the syndic on sm1", "a failure below the syndic on sm2"),
              lacks=(SYNDIC_ID, "did not return"))
    # d: a scheduled highstate below the syndic: one mail
    answered(low, minions, "*", "schedule.add", "e2e_t_hs", "function=state.highstate", "seconds=3600",
             "run_on_start=True")
    try:
        mail_text(env, "a scheduled highstate below the syndic", JOB_TIMEOUT + 60,
                  subject="[salt] 2 minions: 2 failed, 2 changed",
                  has=("a failure on sm1", "a failure on sm2"), lacks=(SYNDIC_ID, "did not return"))
    finally:
        answered(low, minions, "*", "schedule.delete", "e2e_t_hs")
    # e: a highstate from the top runs while watch is stopped; started
    # again, watch finds it in the job cache, which lists syn1 as a
    # minion of the job that did not return: one mail, without syn1
    # with a failing job of the syndic's master, which the master of
    # masters' job cache lists but cannot look up (lookup_jid fails):
    # said in watch's log, and watch runs on
    topo.watch.stop()
    lost = async_job(low, "*", "state.apply", "e2e_t_fail")
    jid = async_job(mom, "*", "state.highstate")
    wait_for("the highstate's returns in the job cache of the master of masters",
             lambda: sorted(lookup(mom, jid)) == minions, timeout=JOB_TIMEOUT)
    wait_for("the job of the syndic's master in the job cache of the master of masters",
             lambda: lost in listed_jids(mom, "state.apply"), timeout=JOB_TIMEOUT)
    topo.keep_output(mom, "jobs.list_jobs", "jobs.list_jobs", "search_function=state.*")
    topo.keep_output(mom, "jobs.lookup_jid.missing", "jobs.lookup_jid", jid, "missing=True")
    topo.keep_output(mom, "cache.list.syndics", "cache.list", "syndics")
    topo.keep_output(mom, "jobs.lookup_jid.missing.below", "jobs.lookup_jid", below, "missing=True")
    topo.watch.start()
    ready(topo.watch, topo.fire, "watch started again")
    watched(env, topo, "the mail of the highstate run while watch was stopped", JOB_TIMEOUT + 30)
    mail_text(env, "a highstate run while watch was stopped, from the job cache", JOB_TIMEOUT + 30,
              subject="[salt] 2 minions: 2 failed, 2 changed",
              has=(f"job state.highstate {jid}", "a failure on sm1", "a failure on sm2"),
              lacks=(SYNDIC_ID, "did not return"))
    if topo.watch.proc.poll() is not None or f"jobs.lookup_jid {lost}" not in topo.watch.tail():
        fail(f"watch after a lookup that failed (exit {topo.watch.proc.poll()}):\n{topo.watch.tail()}")
    env.gaps.append(f"a job of the syndic's master ({lost}) run while watch was stopped is not mailed: the master "
                    "of masters' job cache lists it, but jobs.lookup_jid fails for it")


def two_masters(env):
    """Masters A (with watch) and B, hot-hot, one minion of both."""
    topo = env.topology = Topology(env, "two_masters")
    a = topo.salt("a", A_HOST)
    b = topo.salt("b", B_HOST)
    t0 = time.monotonic()
    a.start_master()
    pem = [os.path.join(a.conf, "pki", "master", f"master.{k}") for k in ("pem", "pub")]
    wait_for("master A's key", lambda: all(os.path.exists(p) for p in pem), timeout=60)
    os.makedirs(os.path.join(b.conf, "pki", "master"), exist_ok=True)
    for p in pem:
        shutil.copy2(p, os.path.join(b.conf, "pki", "master"))
    b.start_master()
    a.start_minion("mm1", masters=[f"{a.host}:{a.ret}", f"{b.host}:{b.ret}"])
    wait_for("mm1 to answer A", lambda: pings(a, ["mm1"]), timeout=150)
    wait_for("mm1 to answer B", lambda: pings(b, ["mm1"]), timeout=150)
    topo.capture(a)
    topo.capture(b)
    topo.start_watch(a)
    topo.keep_output(a, "cache.list.syndics", "cache.list", "syndics")
    log(f"{env.version}: masters A and B, minion mm1 and watch on A up in {time.monotonic() - t0:.0f}s")
    try:
        two_masters_scenarios(env, topo, a, b)
    finally:
        topo.close()
        env.topology = None


def two_masters_scenarios(env, topo, a, b):
    # a: a job published on A: one mail
    jid = async_job(a, "mm1", "state.highstate")
    mail_text(env, "a highstate published on A", JOB_TIMEOUT + 30,
              subject=f"[salt] mm1: 1 failed, 1 changed (state.highstate {jid})",
              has=(f"job state.highstate {jid}", "a failure on mm1"), lacks=("did not return",))
    # b: a job published on B: nothing on A's bus. A clean job on A after
    # it is a barrier: once its digest is done, B's returns had time to
    # reach A's watch had they gone there
    answered(b, ["mm1"], "mm1", "state.highstate")
    jid = async_job(a, "mm1", "state.apply", "e2e_w_clean")
    wait_for("a clean job's digest on A (no mail)", lambda: topo.watch.digested(jid), timeout=JOB_TIMEOUT + 30,
             detail=topo.watch.tail)
    no_mail(env, "a highstate published on B, then a clean job on A")
    # c: a scheduled highstate: its return goes to A and to B
    before = highstate_jids(b)
    answered(a, ["mm1"], "mm1", "schedule.add", "e2e_t_hs", "function=state.highstate", "seconds=3600",
             "run_on_start=True")
    try:
        mail_text(env, "a scheduled highstate of a minion of A and B", JOB_TIMEOUT + 60,
                  subject=re.compile(r"\[salt\] mm1: 1 failed, 1 changed \(state\.highstate \d{20}\)"),
                  has=("a failure on mm1",),
                  lacks=("did not return",))
        # what makes this a test of the multi-master case: B got it too
        on_b = []
        # each poll runs salt-run: once a second
        if not wait_until(lambda: on_b.extend(highstate_jids(b) - before) or on_b, 30, every=1):
            fail("the scheduled highstate's return never reached master B's job cache")
        log(f"{env.version}: the scheduled return reached B too, under jid {sorted(on_b)}")
    finally:
        answered(a, ["mm1"], "mm1", "schedule.delete", "e2e_t_hs")


def highstate_jids(salt):
    """The jids of the state.highstate jobs in salt's job cache."""
    return listed_jids(salt, "state.highstate")


def listed_jids(salt, fun):
    """The jids of the jobs of fun in salt's job cache."""
    out = subprocess.run([salt.bin("salt-run"), "-c", salt.conf, "jobs.list_jobs", f"search_function={fun}",
                          "--out=json"], capture_output=True, timeout=120).stdout
    try:
        return set(json.loads(out or b"{}"))
    except ValueError:
        return set()


class Env:
    def __init__(self, saltmail, mp, venv, root, version):
        self.saltmail, self.mp, self.venv, self.root, self.version = saltmail, mp, venv, root, version
        self.box = Box(mp)
        self.topology = None
        self.gaps = []  # what watch cannot mail, seen
        self.syndic_venv = os.environ.get("E2E_TOPO_SYNDIC_VENV") or venv
        self.capture_dir = os.environ.get("E2E_TOPO_CAPTURE")
        if self.capture_dir:
            os.makedirs(self.capture_dir, exist_ok=True)


SCENARIOS = [("syndic", syndic), ("two_masters", two_masters)]


def main():
    stop_on_sigterm()  # scripts/test runs it in the background
    saltmail, mailpit_bin, venv = sys.argv[1], sys.argv[2], sys.argv[3]
    only = set(sys.argv[4:])
    unknown = only - {n for n, _ in SCENARIOS}
    if unknown:
        fail(f"no scenario {sorted(unknown)}: {[n for n, _ in SCENARIOS]}")
    version = salt_version(venv)
    root = tempfile.mkdtemp(prefix="saltmail-topology-")
    mp = Mailpit(mailpit_bin, root)
    env = Env(saltmail, mp, venv, root, version)
    started = time.monotonic()
    try:
        for name, scenario in SCENARIOS:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            scenario(env)
            log(f"{version}: {name} passed in {time.monotonic() - t0:.0f}s")
        no_mail(env, "nothing more at the end", quiet=QUIET)
        log(f"{version}: every scenario passed in {time.monotonic() - started:.0f}s, {env.box.seen} mails")
        for g in env.gaps:
            log(f"{version}: GAP: {g}")
    finally:
        if env.topology:
            env.topology.close()
        finish(mp, root)


if __name__ == "__main__":
    main()
