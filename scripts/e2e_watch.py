#!/usr/bin/env python3
"""saltmail watch on a REAL Salt master with two minions, and Mailpit.

Usage: e2e_watch.py SALTMAIL MAILPIT SALT_VENV [SCENARIO ...]

The master listens on 127.0.0.5 (the reactor's master of the scale
comparison on 127.0.0.6), so that masters others run on loopback are
never heard. `saltmail watch` runs as on a master, with the default event
command (`salt-run state.event '(salt/job/|syndic/).*' pretty=False`)
given -c for this master. Events are fired onto the master's bus with
Salt's own event API by e2e_watch_fire.py, run by the Salt virtualenv's
Python. Each mail is read back through Mailpit's API: every expectation
counts the new mails exactly and waits 3 s more, and the run's count is
exact, so a mail that comes late fails the next scenario.

 1. highstate: a highstate of both minions (one failing and one changing
    state each): exactly one mail; then test.ping and a clean state.apply:
    none (the clean job's digest is done, with no mail);
 2. scheduled: a failing scheduled highstate on both minions (schedule.add
    run_on_start): one grouped mail naming both, no mail per minion;
 3. duplicates: every return of a job fired twice, and again after the
    digest (a job of fired events, and a real job with copies of its real
    returns taken from watch's journal): one mail each;
 4. kill9: watch killed -9 between minion1's return and minion2's,
    started again, then minion2 returns: the digest, once, with both;
    kill9_lost: the same, but minion2 returns while watch is down: the
    digest once; when `watch --help` says it asks the job cache, with both
    returns, else (no reconcile) naming minion2 as not returned: a GAP line;
 5. did_not_return: salt --async with minion2 stopped: one digest, after
    job_timeout (15 s), naming minion2 "did not return";
 6. master_restart: the master stopped and started between the two
    returns: the digest once, with both (the event command reconnected);
    master_restart_lost (only when named): minion2 finishes while the
    master is down: the digest once, with its return if Salt delivered
    it after all (its retry), else naming minion2 as not returned;
 7. expect: a clean scheduled state.apply every 10 s on both minions and
    watch.expect for it (every 10s, grace 20s); minion2's job disabled:
    one "No scheduled ... since" mail naming minion2 only; enabled again:
    one mail saying it returns again; then nothing more;
 8. forged: while minion2 runs a job, minion1 forges a clean return of
    minion2 with event.fire_master and a preload of "events" (the master
    fires it unwrapped, like its own): the job's digest, then minion2's
    real return (a change) in a mail of its own: never hidden;
 9. late_while_down: a job's digest at job_timeout (15 s) names minion2,
    still running; watch stopped, minion2 returns, watch started again:
    the reconcile finds minion2's return in the job cache and mails it
    late, once;
10. scale: a /new of E2E_WATCH_SCALE (5000) simulated minions and one
    return each: one digest; watch's RSS and CPU, the master's CPU and the
    time from the last return fired to the mail are printed; with
    E2E_WATCH_REACTOR=N, N returns through the reactor example (one
    saltmail per return, examples/master.d as it is) on a master of its
    own, every return reaching a saltmail run that ends well, and the
    same N through watch, side by side.

Scenarios may be named on the command line to run only those.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import datetime
import base64

from e2e_lib import Mailpit, Salt, finish, wait_for

HOST, REACTOR_HOST = "127.0.0.5", "127.0.0.6"
# job_timeout: long enough for a loaded CI machine (2 CPUs shared: a
# minion has taken 14 s to return a job that needs 1); the scenario of a
# minion that does not return restarts watch with a short one, the
# master restart with a longer one: a job that spans a master restart
# has its return 20-60 s after the master is back (the minion's first
# try goes to the old connection and times out).
JOB_TIMEOUT, SHORT_JOB_TIMEOUT, LONG_JOB_TIMEOUT = 45, 15, 180
GROUP_WAIT, GROUP_INTERVAL = 5, 2
SETTLE = 5       # watch waits this long after a job's last return (cmd/watch.go watchSettle)
QUIET = 3  # how long nothing more may arrive after an expected mail (and the
#           whole run's count is exact: a late mail fails the next scenario)
TO = "watch@example.com"

SLS = {
    # a highstate: on each minion one state fails and one changes
    "top.sls": "base:\n  '*':\n    - e2e_w_mixed\n",
    "e2e_w_mixed.sls": """e2e_w_changes:
  test.succeed_with_changes:
    - name: a change on {{ grains['id'] }}

e2e_w_fails:
  test.fail_without_changes:
    - name: a failure on {{ grains['id'] }}
""",
    "e2e_w_clean.sls": """e2e_w_clean:
  test.succeed_without_changes:
    - name: nothing to do on {{ grains['id'] }}
""",
    "e2e_w_change.sls": """e2e_w_change:
  test.succeed_with_changes:
    - name: a change on {{ grains['id'] }}
""",
    # minion2 returns when the test creates the file pillar['gate']
    "e2e_w_slow.sls": """e2e_w_slow_change:
  test.succeed_with_changes:
    - name: a slow change on {{ grains['id'] }}
{% if grains['id'] == 'minion2' %}
e2e_w_slow_gate:
  cmd.run:
    - name: 'for i in $(seq 1200); do test -f {{ pillar["gate"] }} && exit 0; sleep 0.1; done; exit 1'
{% endif %}
""",
}

FIRE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e_watch_fire.py")


def fail(msg):
    sys.exit("e2e watch: " + msg)


def log(msg):
    print(f"e2e watch: {msg}", flush=True)


class Box:
    """The mails watch sent, read back from Mailpit: each expectation
    counts the new ones exactly, and waits `quiet` seconds more for one
    that should not come."""

    def __init__(self, mp):
        self.mp, self.seen = mp, 0

    def all(self):
        """Every mail, oldest first (summaries: ID, Subject, Created)."""
        got = self.mp.api("/api/v1/messages?limit=5000")["messages"]
        return list(reversed(got))

    def text(self, m):
        return self.mp.api(f"/api/v1/message/{m['ID']}")["Text"]

    def expect(self, n, what, timeout, quiet=QUIET, detail=None):
        want = self.seen + n
        if n:
            wait_for(what, lambda: self.mp.count() >= want, timeout=timeout,
                     detail=detail or (lambda: f"mails so far: {[m['Subject'] for m in self.all()]}"))
        time.sleep(quiet)
        got = self.all()
        if len(got) != want:
            fail(f"{what}: {len(got) - self.seen} mails, want {n}: {[m['Subject'] for m in got[self.seen:]]}")
        new = got[self.seen:]
        self.seen = want
        return new


def wait_until(check, timeout, every=0.1):
    """Polls check() every `every` seconds: whether it came true within timeout."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(every)
    return True


def created(m):
    """When Mailpit received a mail, as a unix time."""
    return datetime.datetime.fromisoformat(m["Created"].replace("Z", "+00:00")).timestamp()


class Fire:
    """e2e_watch_fire.py in the Salt virtualenv: Salt's own event API."""

    def __init__(self, salt):
        self.proc = subprocess.Popen([salt.bin("python"), FIRE, os.path.join(salt.conf, "master")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            fail(f"the event firer died (exit {self.proc.wait()})")
        return json.loads(line)

    def jid(self):
        return self.call(jids=1)["jids"][0]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def ret(jid, minion, states, retcode=0, fun="state.apply", **extra):
    return (f"salt/job/{jid}/ret/{minion}",
            {"cmd": "_return", "id": minion, "jid": jid, "fun": fun, "fun_args": ["e2e_w_fired"],
             "return": states, "retcode": retcode, "success": retcode == 0, "user": "root", **extra})


def new(jid, minions, fun="state.apply"):
    return (f"salt/job/{jid}/new", {"jid": jid, "tgt_type": "list", "tgt": minions, "user": "root",
                                     "fun": fun, "arg": ["e2e_w_fired"], "minions": minions, "missing": []})


def one_state(sid, result, changes):
    return {f"test_|-{sid}_|-{sid}_|-e2e": {
        "name": sid, "result": result, "changes": changes, "comment": f"{sid} comment",
        "__id__": sid, "__sls__": "e2e_w_fired", "__run_num__": 0, "start_time": "12:00:00.000000", "duration": 1.0}}


class Watch:
    """saltmail watch, started and killed as a service manager would."""

    def __init__(self, saltmail, config, root):
        self.saltmail, self.config, self.root = saltmail, config, root
        self.proc, self.n, self.args = None, 0, []
        self.journal = os.path.join(root, "state", "watch", "journal")

    def start(self):
        self.n += 1
        self.log = os.path.join(self.root, f"watch-{self.n}.log")
        self.proc = subprocess.Popen([self.saltmail, "watch", "--config", self.config, "-v", *self.args],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT, start_new_session=True)

    def children(self):
        """The event command's pids (watch starts it in a group of its own)."""
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    stat = open(f"/proc/{pid}/stat").read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    out.append(int(pid))
        return out

    def status(self, key):
        """A line of /proc/<watch>/status, in kB (VmRSS, VmHWM)."""
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"watch did not stop on {sig!r}")
        self.proc = None

    def tail(self):
        try:
            return open(self.log).read()[-3000:]
        except OSError:
            return ""

    def digested(self, key):
        """Whether a watch (any start) logged the digest of key as done,
        mailed or, with no news, not."""
        for n in range(1, self.n + 1):
            try:
                if f"digest {key} done" in open(os.path.join(self.root, f"watch-{n}.log")).read():
                    return True
            except OSError:
                pass
        return False

    def journal_has(self, s):
        try:
            return s in open(self.journal).read()
        except FileNotFoundError:
            return False


def ready(watch, fire, what="watch"):
    """Waits until watch hears the bus: a /new of a probe job, fired
    every 0.3 s until one is in watch's journal; then one more, as a
    barrier (the bus keeps order: a probe not heard by then never will
    be); then a clean return for each probe heard (no news: no mail)."""
    jids = []

    def probe():
        jid = fire.jid()
        jids.append(jid)
        fire.call(events=[new(jid, ["watch-probe"])])
        return jid

    def heard(jid):
        return watch.journal_has(f"salt/job/{jid}/new")

    def any_heard():
        probe()
        time.sleep(0.3)
        return any(heard(j) for j in jids)

    wait_for(f"{what} to hear the bus", any_heard, timeout=90, detail=watch.tail)
    last = probe()
    wait_for(f"{what} to hear the barrier", lambda: heard(last), timeout=30, detail=watch.tail)
    fire.call(events=[ret(j, "watch-probe", one_state("probe", True, {})) for j in jids if heard(j)])


def write_config(path, root, smtp_port, to, salt=None, job_timeout=0, group_wait=0, group_interval=0):
    """saltmail's config: its spool and state under root, Mailpit on
    smtp_port; with salt, a watch of that master with the default event
    command given -c for it."""
    text = f"""to: [{to}]
from: saltmail@example.com
repeat_interval: 0s
send_resolved: false
spool_dir: {root}/spool
state_dir: {root}/state
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  tls: none
"""
    if salt:
        event_command = f"{salt.bin('salt-run')} -c {salt.conf} state.event '(salt/job/|syndic/).*' pretty=False"
        text += f"""watch:
  event_command: "{event_command}"
  job_timeout: {job_timeout}s
  group_wait: {group_wait}s
  group_interval: {group_interval}s
"""
    with open(path, "w") as f:
        f.write(text)


def salt_version(venv):
    out = subprocess.run([os.path.join(venv, "bin", "salt"), "--version"], capture_output=True, text=True).stdout
    return out.strip()


def main():
    saltmail, mailpit_bin, venv = sys.argv[1], sys.argv[2], sys.argv[3]
    only = set(sys.argv[4:])
    version = salt_version(venv)
    root = tempfile.mkdtemp(prefix="saltmail-watch-")
    mp = Mailpit(mailpit_bin, root)
    salt = Salt(venv, root, host=HOST)
    env = Env(saltmail, mp, salt, root, version)
    started = time.monotonic()
    try:
        env.setup()
        log(f"{version}: master, 2 minions and watch up in {time.monotonic() - started:.0f}s")
        for name, scenario in SCENARIOS + sorted(OPTIONAL.items()):
            if (only and name not in only) or (not only and name in OPTIONAL):
                continue
            t0 = time.monotonic()
            scenario(env)
            log(f"{version}: {name} passed in {time.monotonic() - t0:.0f}s")
        env.box.expect(0, "nothing more at the end", 0, quiet=GROUP_WAIT + GROUP_INTERVAL + 3)
        log(f"{version}: every scenario passed in {time.monotonic() - started:.0f}s, {env.box.seen} mails")
        for n in env.notes:
            log(f"{version}: NOTE: {n}")
        for f in env.figures:
            log(f"{version}: FIGURES: {f}")
        for g in env.gaps:
            log(f"{version}: GAP: {g}")
    finally:
        env.close()
        finish(mp, root)


class Env:
    def __init__(self, saltmail, mp, salt, root, version):
        self.saltmail, self.mp, self.salt, self.root, self.version = saltmail, mp, salt, root, version
        self.box = Box(mp)
        self.config = os.path.join(root, "saltmail.yaml")
        self.watch = Watch(saltmail, self.config, root)
        self.fire = None
        self.others = []  # other masters (the reactor's), to stop at the end
        self.gaps = []  # what a reconcile from the job cache would fix, seen
        self.notes = []  # what else was seen, for the report
        self.gates = 0
        self.orphans = []  # event commands of a watch killed -9, ended at the close
        # a watch that says it reconciles from the job cache must put a
        # return it missed in the digest; one that does not is let off
        # with a GAP line
        help_text = subprocess.run([saltmail, "watch", "--help"], capture_output=True, text=True).stdout
        self.reconciles = "job cache" in help_text
        self.figures = []
        self.scale_n = int(os.environ.get("E2E_WATCH_SCALE", "5000"))
        self.reactor_n = int(os.environ.get("E2E_WATCH_REACTOR", "0"))

    def setup(self):
        srv = os.path.join(self.root, "srv", "salt")
        os.makedirs(srv)
        for name, text in SLS.items():
            with open(os.path.join(srv, name), "w") as f:
                f.write(text)
        write_config(self.config, self.root, self.mp.smtp, TO, self.salt, JOB_TIMEOUT, GROUP_WAIT, GROUP_INTERVAL)
        # scenarios that need another job_timeout give --job-timeout,
        # which the flag sets over the file's
        self.watch.args = ["--job-timeout", f"{JOB_TIMEOUT}s"]
        self.salt.start_master()
        self.salt.start_minion("minion1")
        self.salt.start_minion("minion2")
        wait_for("both minions to answer", lambda: self.salt.ping(["minion1", "minion2"]), timeout=120)
        self.fire = Fire(self.salt)
        self.watch.start()
        ready(self.watch, self.fire)

    def close(self):
        self.watch.stop()
        for p in self.orphans:
            if alive(p):
                os.kill(p, signal.SIGKILL)
        if self.fire:
            self.fire.proc.kill()
        for s in self.others:
            s.stop_all(signal.SIGKILL)
        self.salt.stop_all(signal.SIGKILL)

    def job_timeout(self, job_timeout):
        """Stops watch (SIGTERM) and starts it with another job_timeout,
        unless it runs with that one."""
        i = self.watch.args.index("--job-timeout")
        if self.watch.args[i + 1] == f"{job_timeout}s":
            return
        self.watch.stop()
        self.watch.args[i + 1] = f"{job_timeout}s"
        self.watch.start()
        ready(self.watch, self.fire, f"watch with job_timeout {job_timeout}s")

    def async_job(self, *args):
        out = self.salt.salt("--async", *args)
        m = re.search(rb"job ID: (\d{20})", out.stdout)
        if not m:
            fail(f"salt --async {args}: {out.stdout!r} {out.stderr!r}")
        return m.group(1).decode()


def highstate(env):
    out = env.salt.salt("*", "state.highstate", "--out=json", "--static")
    got = json.loads(out.stdout)
    if sorted(got) != ["minion1", "minion2"]:
        fail(f"highstate: {out.stdout!r}")
    mails = env.box.expect(1, "the highstate's digest", 60)
    subject = mails[0]["Subject"]
    text = env.box.text(mails[0])
    if subject != "[salt] 2 minions: 2 failed, 2 changed":
        fail(f"highstate digest: {subject!r}\n{text[:1500]}")
    for want in ("job state.highstate ", "a failure on minion1", "a failure on minion2"):
        if want not in text:
            fail(f"highstate digest lacks {want!r}:\n{text[:1500]}")
    # test.ping first: watch reads the bus in order, so once the clean
    # job's digest is done (with no news: no mail), the pings were heard
    ping = env.salt.salt("*", "test.ping", "--out=json", "--static")
    if sorted(json.loads(ping.stdout or b"{}")) != ["minion1", "minion2"]:
        fail(f"test.ping: {ping.stdout!r}")
    jid = env.async_job("*", "state.apply", "e2e_w_clean")
    wait_for("the clean job's digest (no mail)", lambda: env.watch.digested(jid), timeout=60, detail=env.watch.tail)
    if not returned(env, jid, "minion1") or not returned(env, jid, "minion2"):
        fail("the clean job's digest was done before both returned")
    env.box.expect(0, "a clean state.apply and test.ping", 0)


def did_not_return(env):
    """salt --async with minion2 stopped: one digest after job_timeout,
    naming minion2."""
    env.job_timeout(SHORT_JOB_TIMEOUT)
    env.salt.stop("minion2")
    t0 = time.time()
    jid = env.async_job("*", "state.apply", "e2e_w_change")
    # saltutil.find_job asks minion2 first: -t 10 and Salt's
    # gather_job_timeout (10 s) for a minion that is down
    mails = env.box.expect(1, "the digest of the job minion2 did not return", SHORT_JOB_TIMEOUT + 70)
    took = created(mails[0]) - t0
    text = env.box.text(mails[0])
    log(f"{env.version}: the did-not-return digest came {took:.1f}s after salt --async (job_timeout {SHORT_JOB_TIMEOUT}s)")
    if took < SHORT_JOB_TIMEOUT - 1:
        fail(f"the digest came {took:.1f}s after the job, before job_timeout {SHORT_JOB_TIMEOUT}s")
    subject = mails[0]["Subject"]
    if subject != "[salt] 2 minions: 1 changed, 1 did not return" or jid not in text or \
            f"Minion did not return. [No response within job_timeout {SHORT_JOB_TIMEOUT}s]" not in text:
        fail(f"did-not-return digest: {subject!r}\n{text[:2000]}")
    m2 = text[text.index("minion2"):]
    if "did not return" not in m2:
        fail(f"the digest does not say minion2 did not return:\n{text[:2000]}")
    env.salt.start_minion("minion2")


def scheduled(env):
    """A failing scheduled highstate on both minions: their returns have
    no /new; one grouped mail names both, and none comes per minion."""
    out = env.salt.salt("*", "schedule.add", "e2e_w_hs", "function=state.highstate", "seconds=3600",
                        "run_on_start=True", "--out=json", "--static")
    if sorted(json.loads(out.stdout or b"{}")) != ["minion1", "minion2"]:
        fail(f"schedule.add: {out.stdout!r} {out.stderr!r}")
    # a straggler would open a window of its own: its mail would come
    # group_wait (and group_interval after the first) later
    mails = env.box.expect(1, "the scheduled highstates' grouped mail", 90, quiet=GROUP_WAIT + GROUP_INTERVAL + 1)
    text = env.box.text(mails[0])
    if mails[0]["Subject"] != "[salt] 2 minions: 2 failed, 2 changed" or \
            "a failure on minion1" not in text or "a failure on minion2" not in text:
        fail(f"scheduled highstates' mail: {mails[0]['Subject']!r}\n{text[:2000]}")
    out = env.salt.salt("*", "schedule.delete", "e2e_w_hs", "--out=json", "--static")
    if sorted(json.loads(out.stdout or b"{}")) != ["minion1", "minion2"]:
        fail(f"schedule.delete: {out.stdout!r} {out.stderr!r}")


EXPECT_EVERY, EXPECT_GRACE = 10, 20


def schedule(env, minions, *args):
    out = env.salt.salt("-L", ",".join(minions), *args, "--out=json", "--static")
    got = json.loads(out.stdout or b"{}")
    if sorted(got) != sorted(minions) or not all(isinstance(r, dict) and r.get("result") for r in got.values()):
        fail(f"{args}: {out.stdout!r} {out.stderr!r}")


def expect(env):
    """watch.expect on a real master: a clean scheduled job on both
    minions (no mail per run); minion2's disabled: one mail naming it;
    enabled again: one mail saying it returns again."""
    both = ["minion1", "minion2"]
    schedule(env, both, "schedule.add", "e2e_w_hb", "function=state.apply", 'job_args=["e2e_w_clean"]',
             f"seconds={EXPECT_EVERY}")
    config = os.path.join(env.root, "saltmail-expect.yaml")
    keys = f"{env.salt.bin('salt-key')} -c {env.salt.conf} -L --out=json"
    with open(env.config) as f, open(config, "w") as g:
        g.write(f.read().replace("send_resolved: false", "send_resolved: true") +
                f'  keys_command: "{keys}"\n'
                f"  expect:\n    - {{schedule: e2e_w_hb, every: {EXPECT_EVERY}s, grace: {EXPECT_GRACE}s, minions: 'minion*'}}\n")
    env.watch.stop()
    env.watch.config = config
    try:
        env.watch.start()
        ready(env.watch, env.fire, "watch with watch.expect")
        # both minions return the job while watched: no mail
        for m in both:
            wait_for(f"{m}'s scheduled e2e_w_hb in watch's journal",
                     lambda m=m: scheduled_seen(env, m), timeout=90,
                     detail=env.watch.tail)
        schedule(env, ["minion2"], "schedule.disable_job", "e2e_w_hb")
        t0 = time.time()
        mails = env.box.expect(1, "minion2's silence", EXPECT_EVERY + EXPECT_GRACE + 60,
                               quiet=EXPECT_EVERY + 5)
        text = env.box.text(mails[0])
        log(f"{env.version}: the silence was mailed {created(mails[0]) - t0:.1f}s after minion2's job was disabled "
            f"(every {EXPECT_EVERY}s + grace {EXPECT_GRACE}s)")
        if "No scheduled e2e_w_hb since" not in text or "minion2" not in text or "minion1" in text or \
                "did not return" not in mails[0]["Subject"]:
            fail(f"the silence's mail: {mails[0]['Subject']!r}\n{text[:2000]}")
        schedule(env, ["minion2"], "schedule.enable_job", "e2e_w_hb")
        mails = env.box.expect(1, "minion2 returns again", EXPECT_EVERY + GROUP_WAIT + 60,
                               quiet=EXPECT_EVERY + 5)
        text = env.box.text(mails[0])
        if "Returns again" not in text or "minion2" not in text or "minion1" in text:
            fail(f"the mail of minion2 back: {mails[0]['Subject']!r}\n{text[:2000]}")
    finally:
        schedule(env, both, "schedule.delete", "e2e_w_hb")
        env.watch.stop()
        env.watch.config = env.config
        env.watch.start()
        ready(env.watch, env.fire)


def scheduled_seen(env, minion):
    """Whether watch's journal holds a scheduled e2e_w_hb return of minion."""
    try:
        lines = open(env.watch.journal).read().splitlines()
    except FileNotFoundError:
        return False
    return any(f"/ret/{minion}" in ln and "e2e_w_hb" in ln for ln in lines)


def slow_job(env):
    """A job whose minion1 returns at once and minion2 only once the test
    opens its gate; waits for minion1's return in watch's journal.
    Returns the jid and the gate to open."""
    env.gates += 1
    gate = os.path.join(env.root, f"gate-{env.gates}")
    jid = env.async_job("*", "state.apply", "e2e_w_slow", f'pillar={{"gate": "{gate}"}}')
    wait_for("minion1's return in watch's journal", lambda: env.watch.journal_has(f"salt/job/{jid}/ret/minion1"),
             timeout=60, detail=env.watch.tail)
    return jid, lambda: open(gate, "w").close()


def returned(env, jid, minion):
    """Whether the master's job cache holds minion's return of jid."""
    out = subprocess.run([env.salt.bin("salt-run"), "-c", env.salt.conf, "jobs.lookup_jid", jid, "--out=json"],
                         capture_output=True, timeout=60).stdout
    try:
        return minion in json.loads(out or b"{}")
    except ValueError:
        return False


def check_slow_digest(env, mails, jid, what):
    text = env.box.text(mails[0])
    if mails[0]["Subject"] != "[salt] 2 minions: 3 changed" or jid not in text or "did not return" in text:
        fail(f"{what}: {mails[0]['Subject']!r}\n{text[:2000]}")


def alive(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def forged(env):
    """A minion forges another's clean return before the real one: the
    real one is worse (a change), so it is mailed, not taken as a copy."""
    jid, release = slow_job(env)
    fake = {"cmd": "_return", "id": "minion2", "jid": jid, "fun": "state.apply", "fun_args": ["e2e_w_slow"],
            "retcode": 0, "success": True, "return": one_state("forged", True, {})}
    preload = json.dumps({"events": [{"tag": f"salt/job/{jid}/ret/minion2", "data": fake}]})
    out = env.salt.salt("minion1", "event.fire_master", "{}", "e2e/forge", f"preload={preload}", "--out=json", "--static")
    if json.loads(out.stdout or b"{}").get("minion1") is not True:
        fail(f"event.fire_master with a preload: {out.stdout!r} {out.stderr!r}")
    mails = env.box.expect(1, "the digest holding the forged return", 60)
    text = env.box.text(mails[0])
    if mails[0]["Subject"] != "[salt] 2 minions: 1 changed" or "a slow change on minion1" not in text:
        fail(f"the digest holding the forged return: {mails[0]['Subject']!r}\n{text[:2000]}")
    release()
    mails = env.box.expect(1, "minion2's real return, after the forged one", 60 + GROUP_WAIT)
    text = env.box.text(mails[0])
    if "a slow change on minion2" not in text or jid not in text:
        fail(f"minion2's real return: {mails[0]['Subject']!r}\n{text[:2000]}")


def late_while_down(env):
    """A return that comes after the digest named its minion, while no
    watch listens: the reconcile mails it late, once."""
    env.job_timeout(SHORT_JOB_TIMEOUT)
    jid, release = slow_job(env)
    mails = env.box.expect(1, "the digest naming minion2, still running", SHORT_JOB_TIMEOUT + 90)
    text = env.box.text(mails[0])
    if "did not return" not in mails[0]["Subject"] or jid not in text:
        fail(f"the digest naming minion2: {mails[0]['Subject']!r}\n{text[:2000]}")
    env.watch.stop()
    release()
    wait_for("minion2's return in the job cache", lambda: returned(env, jid, "minion2"), timeout=90)
    env.watch.start()
    ready(env.watch, env.fire, "watch started again")
    mails = env.box.expect(1, "minion2's late return, found in the job cache", 60 + GROUP_WAIT,
                           quiet=GROUP_WAIT + GROUP_INTERVAL + 1)
    text = env.box.text(mails[0])
    if "a slow change on minion2" not in text or jid not in text or "minion1" in text:
        fail(f"minion2's late return: {mails[0]['Subject']!r}\n{text[:2000]}")


def kill9(env):
    """watch killed -9 between minion1's return and minion2's, started
    again, then minion2 returns: one digest with both."""
    jid, release = slow_job(env)
    orphans = env.watch.children()
    env.orphans += orphans
    env.watch.stop(signal.SIGKILL)
    env.killed_at = time.monotonic()
    env.watch.start()
    ready(env.watch, env.fire, "watch started again")
    release()
    mails = env.box.expect(1, "the digest of the job watch was killed in", 60)
    check_slow_digest(env, mails, jid, "digest after kill -9")
    # The killed watch's event command has lost its reader; it is not
    # watch's child any more (its own process group, for the SIGTERM).
    left = [p for p in orphans if alive(p)]
    if left:
        env.notes.append(f"after kill -9 of watch, its event command (pid {left}) still ran "
                         f"{time.monotonic() - env.killed_at:.0f}s later, with events since")
        log(f"{env.version}: NOTE: {env.notes[-1]}; ending it")
        for p in left:
            os.kill(p, signal.SIGKILL)


def kill9_lost(env):
    """watch killed -9 between the returns, started again only after
    minion2 returned: that return is in the job cache but was on the bus
    while no watch listened. Only a reconcile from the job cache can put
    it in the digest; without one, the digest still comes once, at
    job_timeout, naming minion2 as not returned."""
    jid, release = slow_job(env)
    orphans = env.watch.children()
    env.watch.stop(signal.SIGKILL)
    for p in orphans:
        os.kill(p, signal.SIGKILL)
    release()
    wait_for("minion2's return in the job cache", lambda: returned(env, jid, "minion2"), timeout=60)
    env.watch.start()
    ready(env.watch, env.fire, "watch started again")
    mails = env.box.expect(1, "the digest of the job whose return came while watch was down", JOB_TIMEOUT + 40)
    text = env.box.text(mails[0])
    if jid not in text:
        fail(f"digest after kill -9 (return while down): {mails[0]['Subject']!r}\n{text[:2000]}")
    if "did not return" in text and not env.reconciles:
        env.gaps.append(f"kill -9, minion2's return came while watch was down: the digest says "
                        f"{mails[0]['Subject']!r}, though minion2's return is in the job cache")
        log(f"{env.version}: GAP: {env.gaps[-1]}")
    else:
        check_slow_digest(env, mails, jid, "digest after kill -9 (return while down)")


def master_restart(env):
    """The master stopped and started again between minion1's return and
    minion2's; minion2 returns to the master that is back: the digest
    arrives once, with both (the event command reconnected). A master
    and its minions take 10-40 s to be back here, and minion2's return
    20-60 s more: watch is started again (SIGTERM) with a job_timeout
    long enough for that."""
    env.job_timeout(LONG_JOB_TIMEOUT)
    jid, release = slow_job(env)
    t0 = time.monotonic()
    env.fire.proc.kill()
    env.salt.stop("master")
    down = time.monotonic() - t0
    env.salt.start_master()
    wait_for("the master back", lambda: env.salt.ping(["minion1", "minion2"]), timeout=120)
    env.fire = Fire(env.salt)
    ready(env.watch, env.fire, "watch after the master restart")
    back = time.monotonic() - t0
    log(f"{env.version}: master stopped in {down:.1f}s, back and heard by watch {back:.1f}s after the stop")
    if back > LONG_JOB_TIMEOUT - 10:
        fail(f"the master took {back:.0f}s to be back: more than job_timeout {LONG_JOB_TIMEOUT}s allows")
    release()
    mails = env.box.expect(1, "the digest of the job the master restarted in", LONG_JOB_TIMEOUT)
    check_slow_digest(env, mails, jid, "digest after the master restart")


def master_restart_lost(env):
    """(Only when named: it may cost a job_timeout.) The master stopped
    between minion1's return and minion2's, minion2 finishing while it is
    down. The minion tries its return again: with the master down ~3 s,
    the try reached it once back on 3006.29, 3007.16 and 3008.4, and the
    digest came once, with both. With the master down longer (a first
    run on 3007.16) Salt lost the return: the minion logged "failed to
    return the job information", the job cache never had it, and the
    digest, once, named minion2 as not returned. Either is asserted."""
    env.job_timeout(LONG_JOB_TIMEOUT)
    jid, release = slow_job(env)
    env.fire.proc.kill()
    env.salt.stop("master")
    release()
    time.sleep(3)
    env.salt.start_master()
    wait_for("the master back", lambda: env.salt.ping(["minion1", "minion2"]), timeout=120)
    env.fire = Fire(env.salt)
    mails = env.box.expect(1, "the digest of the job the master was down in", LONG_JOB_TIMEOUT + 60)
    text = env.box.text(mails[0])
    cached = returned(env, jid, "minion2")
    log(f"{env.version}: a return while the master was down: digest {mails[0]['Subject']!r}, "
        f"minion2's return {'IS' if cached else 'is not'} in the job cache")
    if jid not in text or (cached and "did not return" in text and env.reconciles):
        fail(f"digest after the master was down: {mails[0]['Subject']!r}\n{text[:2000]}")
    if not cached and mails[0]["Subject"] != "[salt] 2 minions: 1 changed, 1 did not return":
        fail(f"digest after the master was down (minion2 lost by Salt): {mails[0]['Subject']!r}\n{text[:2000]}")


def journal_events(env, jid):
    """The events of a job in watch's journal, as watch heard them."""
    got = {}
    for line in open(env.watch.journal):
        parts = line.rstrip("\n").split("\t", 2)
        if len(parts) == 3 and parts[1].startswith(f"salt/job/{jid}/"):
            got[parts[1]] = json.loads(parts[2])
    return got


def duplicates(env):
    """Every return fired twice onto the bus, and once more after the
    digest: one mail. Once on a job of fired events, once with copies of
    a real job's real returns (as watch's journal holds them)."""
    jid = env.fire.jid()
    a = ret(jid, "dup-a", one_state("dup_fails", False, {}), retcode=2)
    b = ret(jid, "dup-b", one_state("dup_changes", True, {"new": "x", "old": ""}))
    env.fire.call(events=[new(jid, ["dup-a", "dup-b"]), a, a, b, b, a])
    mails = env.box.expect(1, "the digest of the job whose returns came twice", 60, quiet=2)
    text = env.box.text(mails[0])
    if mails[0]["Subject"] != "[salt] 2 minions: 1 failed, 1 changed" or jid not in text:
        fail(f"duplicates: {mails[0]['Subject']!r}\n{text[:2000]}")
    env.fire.call(events=[a, b])

    jid, release = slow_job(env)
    m1 = journal_events(env, jid)[f"salt/job/{jid}/ret/minion1"]
    env.fire.call(events=[(f"salt/job/{jid}/ret/minion1", m1)])  # while minion2 runs
    release()
    wait_for("minion2's return in watch's journal", lambda: env.watch.journal_has(f"salt/job/{jid}/ret/minion2"), timeout=60)
    m2 = journal_events(env, jid)[f"salt/job/{jid}/ret/minion2"]
    env.fire.call(events=[(f"salt/job/{jid}/ret/minion2", m2)])
    mails = env.box.expect(1, "the digest of a real job with its returns fired again", 60, quiet=2)
    check_slow_digest(env, mails, jid, "real job with duplicated returns")
    env.fire.call(events=[(f"salt/job/{jid}/ret/minion1", m1), (f"salt/job/{jid}/ret/minion2", m2)])
    env.box.expect(0, "duplicates after the digests", 0, quiet=GROUP_WAIT + 2)


def cpu_seconds(sid):
    """CPU time (user + system, with reaped children's) of every process
    of session sid: a master and all it started, or watch and its event
    command."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[3]) == sid:
            total += sum(int(x) for x in f[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def scale_spec(jid, n):
    """n simulated minions: every 100th fails, every 10th (+1) changes."""
    return {"jid": jid, "minions": [f"sim-{i:05d}" for i in range(n)], "every_failed": 100, "every_changed": 10}


def scale_news(n):
    failed = len(range(0, n, 100))
    changed = len(range(1, n, 10))
    return failed, changed


def scale(env):
    """Thousands of simulated minion returns, fired onto the real master's
    bus with Salt's event API, for one /new listing them: one digest.
    Prints watch's peak RSS and CPU, the master's CPU, and the time from
    the last return fired to the mail in Mailpit."""
    n = env.scale_n
    env.job_timeout(LONG_JOB_TIMEOUT)  # firing thousands takes a while on a loaded machine
    failed, changed = scale_news(n)
    master = env.salt.procs["master"].pid
    rss0, hwm0 = env.watch.status("VmRSS"), env.watch.status("VmHWM")
    cpu_m, cpu_w = cpu_seconds(master), cpu_seconds(env.watch.proc.pid)
    jid = env.fire.jid()
    t0 = time.time()
    r = env.fire.call(scale=scale_spec(jid, n))
    fired = r["at"] - t0
    mails = env.box.expect(1, f"the digest of {n} simulated minions", 300)
    latency = created(mails[0]) - r["at"]
    want = f"[salt] {n} minions: {failed} failed, {changed} changed"
    if mails[0]["Subject"] != want:
        fail(f"scale: {mails[0]['Subject']!r}, want {want!r}")
    text = env.box.text(mails[0])
    if jid not in text or "did not return" in text:
        fail(f"scale digest:\n{text[:2000]}")
    hwm = env.watch.status("VmHWM")
    cpu_m, cpu_w = cpu_seconds(master) - cpu_m, cpu_seconds(env.watch.proc.pid) - cpu_w
    size = mails[0].get("Size", 0)
    env.figures.append(
        f"scale, watch: {n} returns fired in {fired:.1f}s; digest in Mailpit {latency:.1f}s after the last return "
        f"(of which {SETTLE}s is watch's settle); watch RSS before {rss0 // 1024} MiB, peak {hwm // 1024} MiB "
        f"(peak before {hwm0 // 1024} MiB); CPU: master {cpu_m:.1f}s, watch + its event command {cpu_w:.1f}s; "
        f"mail {size // 1024} KiB")
    log(f"{env.version}: {env.figures[-1]}")
    if hwm > 512 * 1024:
        fail(f"watch peaked at {hwm // 1024} MiB for {n} returns")
    if env.reactor_n:
        reactor(env, env.reactor_n)


EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
REACTOR_SLS_SRC = os.path.join(EXAMPLES, "reactor", "saltmail.sls")
REACTOR_CONF_SRC = os.path.join(EXAMPLES, "master.d", "saltmail.conf")


def reactor(env, n):
    """The same job through the reactor example (one saltmail per return),
    on a master of its own (127.0.0.6) with no watch: the master's CPU
    (its processes and all they started: the reactor, the runners, each
    saltmail) and the time from the last return fired to the last mail;
    then the same through watch on the watch's master, for side by side."""
    root = os.path.join(env.root, "reactor")
    os.makedirs(os.path.join(root, "reactor"))
    config = os.path.join(root, "saltmail.yaml")
    write_config(config, root, env.mp.smtp, "reactor@example.com")
    # the reactor runs a wrapper that keeps each run's input, exit code
    # and stderr: a missing mail then says whether Salt's reactor never
    # started saltmail for that return, or saltmail ran and mailed nothing
    runs = os.path.join(root, "runs")
    os.makedirs(runs)
    wrapper = os.path.join(root, "saltmail-logged")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nn=$$\ncat > {runs}/$n.in\necho "start $n" >> {runs}/log\n'
                f'{env.saltmail} "$@" < {runs}/$n.in 2> {runs}/$n.err\nrc=$?\n'
                f'echo "done $n $rc" >> {runs}/log\nexit $rc\n')
    os.chmod(wrapper, 0o755)
    text = open(REACTOR_SLS_SRC).read().replace("/usr/local/bin/saltmail", wrapper).replace("/etc/salt/saltmail.yaml", config)
    with open(os.path.join(root, "reactor", "saltmail.sls"), "w") as f:
        f.write(text)
    salt = Salt(env.salt.venv, root, host=REACTOR_HOST)
    # the example's master.d file as it is (its one reactor worker too)
    with open(os.path.join(salt.conf, "master.d", "saltmail.conf"), "w") as f:
        f.write(open(REACTOR_CONF_SRC).read().replace("/srv/reactor/saltmail.sls", f"{root}/reactor/saltmail.sls"))
    env.others.append(salt)
    salt.start_master()
    fire = Fire(salt)
    try:
        # warm up: until the reactor listens, events are lost; a
        # warm-up return is fired every 3 s until one is mailed
        before = env.mp.count()

        def warmed():
            jid = fire.jid()
            fire.call(events=[ret(jid, f"warm-up-{jid}", one_state("warm", True, {"new": "x", "old": ""}))])
            return wait_until(lambda: env.mp.count() > before, 3)

        wait_for("the reactor's warm-up mail", warmed, timeout=120)
        time.sleep(3)
        env.box.seen = env.mp.count()  # the warm-up mails, one or a few
        failed, changed = scale_news(n)
        master = salt.procs["master"].pid
        cpu0 = cpu_seconds(master)
        jid = fire.jid()
        r = fire.call(scale=scale_spec(jid, n))
        mails = env.box.expect(failed + changed, f"the reactor's {failed + changed} mails of {n} returns", 60 + n,
                               detail=lambda: reactor_runs(runs, n))
        wall = max(created(m) for m in mails) - r["at"]
        # every return, clean ones too, reached a saltmail run that ended well:
        # Salt's reactor drops none with the example's one worker
        sims = {f"sim-{i:05d}" for i in range(n)}

        def all_ran():
            started, ended = reactor_run_ids(runs)
            return sims <= set(started.values()) and len(ended) == len(started)

        wait_for("a saltmail run for each return", all_ran, timeout=120, detail=lambda: reactor_runs(runs, n))
        if any(rc != "0" for rc in reactor_run_ids(runs)[1].values()):
            fail(reactor_runs(runs, n))
        cpu = cpu_seconds(master) - cpu0
        nfailed = sum(": 1 failed" in m["Subject"] for m in mails)
        nchanged = sum(": 1 changed" in m["Subject"] for m in mails)
        if (nfailed, nchanged) != (failed, changed):
            fail(f"reactor: {nfailed} failed and {nchanged} changed mails, want {failed} and {changed}: "
                 f"{[m['Subject'] for m in mails[:3]]}")
        env.figures.append(f"scale, reactor: {n} returns: {len(mails)} mails, the last {wall:.1f}s after the last return; "
                           f"CPU of the master and all it started {cpu:.1f}s")
        log(f"{env.version}: {env.figures[-1]}")
    finally:
        fire.proc.kill()
        salt.stop_all(signal.SIGKILL)
        env.others.remove(salt)
    # the same n through watch, for side by side
    cpu_m, cpu_w = cpu_seconds(env.salt.procs["master"].pid), cpu_seconds(env.watch.proc.pid)
    jid = env.fire.jid()
    r = env.fire.call(scale=scale_spec(jid, n))
    mails = env.box.expect(1, f"the digest of {n} simulated minions", 300)
    latency = created(mails[0]) - r["at"]
    cpu_m, cpu_w = cpu_seconds(env.salt.procs["master"].pid) - cpu_m, cpu_seconds(env.watch.proc.pid) - cpu_w
    env.figures.append(f"scale, watch: {n} returns: 1 mail, {latency:.1f}s after the last return "
                       f"(of which {SETTLE}s settle); CPU: master {cpu_m:.1f}s, watch + event command {cpu_w:.1f}s")
    log(f"{env.version}: {env.figures[-1]}")


def reactor_run_ids(runs):
    """The runs of saltmail the reactor started, as {pid: minion id of
    the return it was given}, and {pid: exit code} of those that ended."""
    path = os.path.join(runs, "log")
    log_lines = open(path).read().splitlines() if os.path.exists(path) else []
    started = {}
    for pid in (l.split()[1] for l in log_lines if l.startswith("start ")):
        try:
            started[pid] = json.loads(base64.b64decode(open(os.path.join(runs, pid + ".in"), "rb").read())).get("id")
        except (OSError, ValueError):
            started[pid] = None
    return started, {l.split()[1]: l.split()[2] for l in log_lines if l.startswith("done ")}


def reactor_runs(runs, n):
    """What the reactor's saltmail runs did: how many started and ended,
    the simulated minions no run was started for, and the runs that
    exited non-zero, with their stderr."""
    started, ended = reactor_run_ids(runs)
    missing = {f"sim-{i:05d}" for i in range(n)} - set(started.values())
    bad = {pid: open(os.path.join(runs, pid + ".err"), errors="replace").read()[-500:]
           for pid, rc in ended.items() if rc != "0"}
    return (f"reactor: {len(started)} saltmail runs started, {len(ended)} ended; "
            f"no run for {sorted(missing)}; non-zero exits: {bad}")


SCENARIOS = [
    ("highstate", highstate),
    ("scheduled", scheduled),
    ("duplicates", duplicates),
    ("kill9", kill9),
    ("kill9_lost", kill9_lost),
    ("did_not_return", did_not_return),
    ("master_restart", master_restart),
    ("expect", expect),
    ("forged", forged),
    ("late_while_down", late_while_down),
    ("scale", scale),
]
OPTIONAL = {"master_restart_lost": master_restart_lost}


if __name__ == "__main__":
    main()
