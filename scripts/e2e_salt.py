#!/usr/bin/env python3
"""saltmail inside a REAL Salt installation: master, two minions, Mailpit.

Usage: e2e_salt.py SALTMAIL MAILPIT SALT_VENV

Everything runs on loopback in a temporary directory. The example files
under examples/ are used as they are, with only the binary, config and
reactor paths swapped for the test's own, and examples/salt/saltmail is
applied with salt-call --local to install them (the config from the
pillar's saltmail:settings). This master runs as the caller (root in
CI); e2e_user.py runs one as `salt`. Then:

1. a state run that fails and changes on minion1 and is clean on minion2:
   through the reactor exactly one mail, for minion1, with the diff, the
   unicode and the multi-line stderr intact;
2. test.ping and saltutil.find_job: the reactor starts no process, no mail;
3. `salt '*' state.apply ... --out=json | saltmail`: one digest naming both
   minions; with minion2 stopped the mail says it did not return;
4. `saltmail run -- salt-call --local ...` with a failing state: a mail;
   `saltmail run -- false`: a mail with the exit status; the cron example
   line runs a highstate through `saltmail run`: a mail;
5. `state.apply test=True`: a mail of pending states, no failures;
6. an SLS with a Jinja error: a mail with Salt's render error;
7. noise control through the reactor: mailed once, then resolved;
8. what Salt says instead of states: state.low through the reactor and
   through saltmail run, a target that matches nothing, jobs.list_job
   of a job whose minion was stopped, on 3008 the bus's events of a job
   run with --start-event, and the master stopped.
Each output Salt printed is also checked against the corpus's shapes.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from e2e_lib import Mailpit, Salt, finish, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE_KEYS = {"name", "changes", "result", "comment", "__sls__", "__run_num__", "start_time", "duration", "__id__"}

SLS = {
    "e2e_mixed.sls": r"""{% set base = '@WORK@/' ~ grains['id'] %}
{% if grains['id'] == 'minion1' %}
e2e_seed:
  cmd.run:
    - name: mkdir -p {{ base }} && printf 'line one\nline two\n' > {{ base }}/motd

e2e_motd:
  file.managed:
    - name: {{ base }}/motd
    - contents: |
        line one
        ligne deux — ünïcødé ☃
    - require:
      - cmd: e2e_seed

e2e_broken:
  cmd.run:
    - name: 'printf "first line\nsecond line with a literal \\\\n backslash-n\n" >&2; exit 2'
{% else %}
e2e_clean:
  test.succeed_without_changes:
    - name: nothing to do on {{ grains['id'] }}
{% endif %}
""",
    "e2e_change.sls": """e2e_change:
  test.succeed_with_changes:
    - name: a change on {{ grains['id'] }}
""",
    "e2e_fail.sls": """e2e_fail_change:
  test.succeed_with_changes:
    - name: a change before the failure

e2e_fail_cmd:
  cmd.run:
    - name: 'echo "cron-time failure" >&2; exit 3'
""",
    "e2e_flaky.sls": """e2e_flaky:
  cmd.run:
    - name: test -f @WORK@/fixed || { echo "not fixed yet" >&2; exit 1; }
""",
    "e2e_dup.sls": r"""e2e_dup:
  cmd.run:
    - name: 'printf "one\ntwo\n"; echo "dup failure" >&2; exit 4'
""",
    "e2e_jinja.sls": """e2e_jinja:
  test.succeed_without_changes:
    - name: {{ this_is_undefined.attribute }}
""",
    "top.sls": """base:
  '*':
    - e2e_mixed
""",
}


def fail(msg):
    sys.exit("e2e salt: " + msg)


def check_shapes(what, out, minions):
    """The JSON Salt printed has the corpus's shapes: one document per
    minion (streaming), each a map of state entries with its fields."""
    docs = [json.loads(d) for d in re.split(rb"(?m)^(?=\{)", out) if d.strip()]
    seen = []
    for d in docs:
        for mid, ret in d.items():
            seen.append(mid)
            if isinstance(ret, dict):
                for key, entry in ret.items():
                    if key.count("_|-") < 3 or not STATE_KEYS <= set(entry):
                        fail(f"{what}: {mid}: state entry {key!r} lacks {STATE_KEYS - set(entry)}")
    if sorted(seen) != sorted(minions):
        fail(f"{what}: documents for {seen}, want {minions}")


def main():
    saltmail, mailpit_bin, venv = sys.argv[1], sys.argv[2], sys.argv[3]
    version = subprocess.run([os.path.join(venv, "bin", "salt"), "--version"], capture_output=True, text=True).stdout.strip()
    root = tempfile.mkdtemp(prefix="saltmail-salt-")
    mp = Mailpit(mailpit_bin, root)
    salt = Salt(venv, root)
    try:
        run_scenarios(saltmail, mp, salt, root)
        print(f"e2e salt ({version}): reactor, CLI pipe, saltmail run and the cron example proven on a real master")
    finally:
        salt.stop_all()
        finish(mp, root)


def install(saltmail, mp, salt, root):
    """Applies examples/salt/saltmail with salt-call --local, serving the
    example files, so that the installer SLS is exercised too. The
    binary it installs is a wrapper that logs each call and runs saltmail.
    Mode reactor: the scenarios below go through the reactor."""
    srv = os.path.join(root, "srv", "salt")
    files = os.path.join(srv, "saltmail", "files")
    os.makedirs(files)
    shutil.copy(os.path.join(ROOT, "examples/salt/saltmail/init.sls"), os.path.join(srv, "saltmail", "init.sls"))
    shutil.copy(os.path.join(ROOT, "examples/reactor/saltmail.sls"), os.path.join(files, "reactor.sls"))
    shutil.copy(os.path.join(ROOT, "examples/master.d/saltmail.conf"), os.path.join(files, "master.conf"))
    shutil.copy(os.path.join(ROOT, "examples/cron/saltmail"), os.path.join(files, "cron"))
    shutil.copy(os.path.join(ROOT, "examples/systemd/saltmail-watch.service"), os.path.join(files, "saltmail-watch.service"))
    with open(os.path.join(files, "saltmail"), "w") as f:
        f.write(f'#!/bin/sh\necho "start $*" >> {root}/invocations.log\n{saltmail} "$@"\nrc=$?\n'
                f'echo "done $rc $*" >> {root}/invocations.log\nexit $rc\n')
    for name, text in SLS.items():
        with open(os.path.join(srv, name), "w") as f:
            f.write(text.replace("@WORK@", os.path.join(root, "work")))
    apply_installer(salt, installer_pillar(mp, salt, root, "reactor"))
    # this master runs as the caller (root in CI): the installer read its
    # `user:` and made the config and the dirs that user's
    for path, mode in ((f"{root}/saltmail.yaml", 0o600), (f"{root}/spool", 0o700), (f"{root}/saltmail-state", 0o700)):
        st = os.stat(path)
        if st.st_mode & 0o777 != mode or st.st_uid != os.getuid():
            fail(f"{path}: mode {st.st_mode & 0o777:o}, uid {st.st_uid}, want {mode:o}, uid {os.getuid()}")
    for path in (f"{root}/reactor/saltmail.sls", f"{salt.conf}/master.d/saltmail.conf", f"{root}/cron.d/saltmail"):
        text = open(path).read()
        if "/usr/local/bin/saltmail" in text or "/etc/salt/saltmail.yaml" in text or "/srv/reactor/" in text:
            fail(f"{path} still names a default path")
    if "saltmail run " in open(f"{root}/cron.d/saltmail").read():
        fail("mode reactor installed the cron digest too: every job would be mailed twice")
    return f"{root}/bin/saltmail", f"{root}/saltmail.yaml"


def installer_pillar(mp, salt, root, mode, scratch=None):
    """The pillar the installer gets: the test's paths and server. With
    scratch, the mode's own files (reactor, master.d, cron, unit) go
    there, so that another mode can be applied beside the one in use."""
    # the config comes from pillar (saltmail:settings), never from salt://
    settings = {"to": ["reactor@example.com"],
                "repeat_interval": "0s",  # the scenarios repeat failures on purpose;
                "send_resolved": False,   # noise control has a scenario of its own, at the end
                "smtp": {"host": "127.0.0.1", "port": mp.smtp, "tls": "none"}}
    files = scratch or root
    return {"saltmail": {"bin": f"{root}/bin/saltmail", "config": f"{root}/saltmail.yaml", "mode": mode,
                         "master_d": f"{scratch}/master.d" if scratch else f"{salt.conf}/master.d",
                         "reactor_dir": f"{files}/reactor", "cron_d": f"{files}/cron.d",
                         "systemd_dir": f"{files}/systemd", "start_service": False,
                         "spool_dir": f"{root}/spool", "settings": settings}}


def apply_installer(salt, pillar):
    out = subprocess.run([salt.bin("salt-call"), "--local", "-c", salt.local, "state.apply", "saltmail",
                          "pillar=" + json.dumps(pillar), "--out=json"], capture_output=True)
    res = json.loads(out.stdout or b"{}").get("local")
    if out.returncode != 0 or not isinstance(res, dict) or not all(s["result"] for s in res.values()):
        fail(f"installing with examples/salt/saltmail failed: {out.stdout.decode()} {out.stderr.decode()[-2000:]}")


def check_modes(mp, salt, root):
    """Each installer mode writes its own way of running saltmail and
    removes the others' (two would mail every job twice). Applied into a
    scratch dir each, beside the reactor install the scenarios use;
    returns the cron digest line that mode cron installed."""
    got = {}
    for mode in ("cron", "watch"):
        scratch = os.path.join(root, "mode-" + mode)
        for d in ("reactor", "master.d", "cron.d"):  # the other modes' files, left from before
            os.makedirs(os.path.join(scratch, d))
        for leftover in ("reactor/saltmail.sls", "master.d/saltmail.conf"):
            open(os.path.join(scratch, leftover), "w").close()
        apply_installer(salt, installer_pillar(mp, salt, root, mode, scratch))
        left = [p for p in ("reactor/saltmail.sls", "master.d/saltmail.conf") if os.path.exists(os.path.join(scratch, p))]
        unit = os.path.join(scratch, "systemd", "saltmail-watch.service")
        cron = open(os.path.join(scratch, "cron.d", "saltmail")).read()
        if left:
            fail(f"mode {mode} left the reactor's files: {left}")
        if ("saltmail run " in cron) != (mode == "cron") or " flush " not in cron:
            fail(f"mode {mode}: the cron file has the wrong lines:\n{cron}")
        if (mode == "watch") != os.path.exists(unit):
            fail(f"mode {mode}: the watch unit is {'missing' if mode == 'watch' else 'there'}")
        got[mode] = cron
    text = open(os.path.join(root, "mode-watch", "systemd", "saltmail-watch.service")).read()
    user = __import__("pwd").getpwuid(os.getuid()).pw_name
    if f"User={user}\n" not in text or f"ExecStart={root}/bin/saltmail watch --config {root}/saltmail.yaml\n" not in text:
        fail(f"the watch unit does not run the installed saltmail as the master's user:\n{text}")
    return [l for l in got["cron"].splitlines() if not l.startswith("#") and "saltmail run " in l][0]


def invocations(root, what="start"):
    """The reactor's saltmail runs (those with --base64) that started (or,
    with "done", ended)."""
    try:
        lines = open(os.path.join(root, "invocations.log")).read().splitlines()
    except FileNotFoundError:
        return []
    return [l for l in lines if l.startswith(what + " ") and "--base64" in l]


def run_scenarios(saltmail, mp, salt, root):
    binary, config = install(saltmail, mp, salt, root)
    salt.start_master()
    salt.start_minion("minion1")
    salt.start_minion("minion2")
    wait_for("both minions to answer", lambda: salt.ping(["minion1", "minion2"]), timeout=120)

    def reactor_mails():
        return mp.search("to:reactor@example.com")

    def reactor_ran(total):
        """Waits until the reactor has started saltmail `total` times in
        all and every run has ended; more runs than that is a failure."""
        def done():
            started, ended = len(invocations(root, "start")), len(invocations(root, "done"))
            return started >= total and ended == started
        def seen():
            log = os.path.join(root, "master.log")
            tail = open(log, errors="replace").read().splitlines()[-30:] if os.path.exists(log) else []
            return (f"started {len(invocations(root, 'start'))}, ended {len(invocations(root, 'done'))}; "
                    "master.log's tail:\n" + "\n".join(tail))
        # each run is a runner job in Salt's reactor pool: on a loaded
        # machine one takes seconds, so the deadline is wide; the count
        # below still fails a run too many
        wait_for(f"{total} reactor runs of saltmail", done, timeout=240, detail=seen)
        if len(invocations(root, "start")) != total:
            fail(f"the reactor ran saltmail {len(invocations(root, 'start'))} times, want {total}")

    # 1. the reactor: one mail, for the minion with failures and changes
    out = salt.salt("*", "state.apply", "e2e_mixed", "--out=json")
    check_shapes("state.apply e2e_mixed", out.stdout, ["minion1", "minion2"])
    m1 = {}
    for doc in re.split(rb"(?m)^(?=\{)", out.stdout):
        if doc.strip():
            m1.update(json.loads(doc).get("minion1", {}))
    reactor_ran(2)
    calls = invocations(root)
    if len(calls) != 2 or any("--base64" not in c for c in calls):
        fail(f"reactor invocations: {calls}")
    mails = reactor_mails()
    if len(mails) != 1 or not mails[0]["Subject"].startswith("[salt] minion1: 1 failed, 2 changed (state.apply "):
        fail(f"reactor mails: {[m['Subject'] for m in mails]}")
    text = mails[0]["Text"]
    diff = next(v["changes"]["diff"] for k, v in m1.items() if k.startswith("file_|-e2e_motd"))
    stderr = next(v["changes"]["stderr"] for k, v in m1.items() if k.startswith("cmd_|-e2e_broken"))
    for want in diff.splitlines() + stderr.splitlines():
        if want.strip() and want not in text:
            fail(f"the reactor mail lost {want!r}:\n{text}")
    if "ünïcødé ☃" not in text or "\\n backslash-n" not in text:
        fail("unicode or the literal backslash-n did not survive the reactor")

    # 2. non-state jobs start nothing; a later state job proves the reactor ran on
    salt.salt("*", "test.ping", "--out=json")
    salt.salt("*", "saltutil.find_job", "20261125000000000000", "--out=json")
    salt.salt("minion2", "state.apply", "e2e_change", "--out=json")
    reactor_ran(3)  # the state run alone: test.ping and find_job started nothing
    if len(reactor_mails()) != 2 or not reactor_mails()[0]["Subject"].startswith("[salt] minion2: 1 changed"):
        fail(f"reactor mails: {[m['Subject'] for m in reactor_mails()]}")

    def pipe(*salt_args, to):
        out = salt.salt(*salt_args, "--out=json")
        before = len(mp.search(f"to:{to}"))
        sent = subprocess.run([binary, "--config", config, "--to", to], input=out.stdout, capture_output=True)
        if sent.returncode != 0:
            fail(f"saltmail after salt {' '.join(salt_args)}: exit {sent.returncode}: {sent.stderr.decode()}")
        wait_for(f"the mail to {to}", lambda: len(mp.search(f"to:{to}")) == before + 1)
        return out.stdout, mp.search(f"to:{to}")[0]

    # 3. the CLI pipe: one digest for both minions
    out, mail = pipe("*", "state.apply", "e2e_mixed", to="pipe@example.com")
    reactor_ran(5)
    check_shapes("piped state.apply", out, ["minion1", "minion2"])
    if mail["Subject"] != "[salt] 2 minions: 1 failed, 2 changed" or "Unchanged: 1 minion: minion2" not in mail["Text"]:
        fail(f"digest: {mail['Subject']!r}\n{mail['Text'][:500]}")

    # 5. test=True: pending, not failed
    out, mail = pipe("*", "state.apply", "e2e_mixed", "test=True", to="test@example.com")
    reactor_ran(7)
    if "pending" not in mail["Subject"] or "failed" in mail["Subject"] or "Result: None" not in mail["Text"]:
        fail(f"test=True mail: {mail['Subject']!r}")

    # 6. a Jinja error: Salt's render error in the mail
    out, mail = pipe("*", "state.apply", "e2e_jinja", to="jinja@example.com")
    reactor_ran(9)
    check_shapes("render error", out, ["minion1", "minion2"])
    if "2 with errors" not in mail["Subject"] or "Rendering SLS 'base:e2e_jinja' failed" not in mail["Text"] or "Data failed to compile:" not in mail["Text"]:
        fail(f"render error mail: {mail['Subject']!r}\n{mail['Text'][:500]}")

    # 4. saltmail run: salt-call --local with a failing state, a failing command, the cron line
    def run(args, to, code):
        before = len(mp.search(f"to:{to}"))
        r = subprocess.run([binary, "run", "--config", config, "--to", to, "--", *args], capture_output=True)
        if r.returncode != code or r.stdout:
            fail(f"saltmail run {args}: exit {r.returncode} (want {code}), stdout {r.stdout!r}, stderr {r.stderr.decode()}")
        wait_for(f"the mail to {to}", lambda: len(mp.search(f"to:{to}")) == before + 1)
        return mp.search(f"to:{to}")[0]

    mail = run([salt.bin("salt-call"), "--local", "-c", salt.local, "state.apply", "e2e_fail", "--out=json"], "run@example.com", 1)
    # salt-call's "local" is reported under the minion's own id (its -c dir's id:)
    if not mail["Subject"].startswith("[salt] local-master: 1 failed, 1 changed") or "cron-time failure" not in mail["Text"]:
        fail(f"saltmail run salt-call: {mail['Subject']!r}")
    mail = run(["false"], "false@example.com", 1)
    if "exit status 1" not in mail["Subject"]:
        fail(f"saltmail run false: {mail['Subject']!r}")
    cron = check_modes(mp, salt, root)
    command = cron.split(None, 6)[6].strip()  # m h dom mon dow user COMMAND
    before = len(reactor_mails())
    env = dict(os.environ, SALT_CONFIG_DIR=salt.conf, PATH=os.path.join(salt.venv, "bin") + os.pathsep + os.environ["PATH"])
    r = subprocess.run(["sh", "-c", command], capture_output=True, env=env)
    # salt exits 1 when a state failed; saltmail run passes that on, and
    # prints nothing, so cron itself stays quiet.
    if r.returncode != 1 or r.stdout or r.stderr:
        fail(f"the cron line {command!r}: exit {r.returncode}, {r.stdout!r} {r.stderr!r}")
    reactor_ran(11)  # the highstate's two returns
    want = "[salt] 2 minions: 1 failed, 2 changed"
    wait_for("the cron run's digest", lambda: any(m["Subject"] == want for m in reactor_mails()[: len(reactor_mails()) - before]), timeout=60)

    # 7. noise control through the reactor: the same failure is mailed
    # once, then not again; when it is fixed, a resolved mail says so.
    with open(config, "a") as f:
        f.write("repeat_interval: 24h\nsend_resolved: true\n")
    text = open(config).read().replace("repeat_interval: 0s", "").replace("send_resolved: false", "")
    with open(config, "w") as f:
        f.write(text)
    # (cmd.run reports changes when it succeeds: the fixed run mails those too)
    for total, step, want in ((12, "first failure", 1), (13, "same failure again", 0), (14, "fixed", 2)):
        if step == "fixed":
            open(os.path.join(root, "work", "fixed"), "w").close()
        mails = len(reactor_mails())
        salt.salt("minion1", "state.apply", "e2e_flaky", "--out=json")
        reactor_ran(total)
        got = reactor_mails()[: len(reactor_mails()) - mails]
        if len(got) != want:
            fail(f"noise control, {step}: {len(got)} mails, want {want}: {[m['Subject'] for m in got]}")
        if step == "first failure" and not got[0]["Subject"].startswith("[salt] minion1: 1 failed (state.apply "):
            fail(f"noise control: {got[0]['Subject']!r}")
        if step == "fixed" and "[salt] minion1: resolved: 1 state" not in [m["Subject"] for m in got]:
            fail(f"noise control, resolved: {[m['Subject'] for m in got]}")

    # 7b. one failure, one mail: the reactor mails it; the CLI output of
    # the same job piped through saltmail (the cron digest) does not mail
    # it again, though Salt prints it in another key order; a test run
    # then resolves nothing and forgets nothing.
    mails = len(reactor_mails())
    out = salt.salt("minion1", "state.apply", "e2e_dup", "--out=json")
    reactor_ran(15)
    if len(reactor_mails()) != mails + 1:
        fail(f"the reactor mailed {len(reactor_mails()) - mails} times for a new failure")
    again = subprocess.run([binary, "--config", config], input=out.stdout, capture_output=True)
    if again.returncode != 0 or len(reactor_mails()) != mails + 1:
        fail(f"the digest of the job the reactor mailed mailed again (exit {again.returncode}): {[m['Subject'] for m in reactor_mails()]}")
    salt.salt("minion1", "state.apply", "e2e_dup", "test=True", "--out=json")
    reactor_ran(16)
    salt.salt("minion1", "state.apply", "e2e_dup", "--out=json")
    reactor_ran(17)
    got = [m["Subject"] for m in reactor_mails()[: len(reactor_mails()) - mails - 1]]
    if any("resolved" in g or "failed" in g for g in got):
        fail(f"a test run resolved or forgot the failure: {got}")

    # 3b. a minion that does not answer is named in the piped mail
    salt.stop("minion2")
    out, mail = pipe("*", "state.apply", "e2e_change", "-t", "5", to="down@example.com")
    if "did not return" not in mail["Subject"] or "minion2:" not in mail["Text"] or "Minion did not return" not in mail["Text"]:
        fail(f"dead minion mail: {mail['Subject']!r}\n{mail['Text'][:600]}")
    # in batch mode Salt names a dead minion only in a line of text
    out, mail = pipe("*", "state.apply", "e2e_change", "-b", "1", "-t", "5", to="batch@example.com")
    if "did not return" not in mail["Subject"] or "minion2 did not respond" not in mail["Text"]:
        fail(f"batch dead minion mail: {mail['Subject']!r}\n{out[:400]!r}\n{mail['Text'][:600]}")

    # 8. what Salt says instead of a map of states (issue 12)
    low = '{"state": "cmd", "fun": "run", "name": "exit 1", "__id__": "e2e_low"}'
    before = len(reactor_mails())
    salt.salt("minion1", "state.low", low, "--out=json")
    wait_for("the reactor's state.low mail", lambda: any(
        m["Subject"].startswith("[salt] minion1: 1 failed (state.low ") for m in reactor_mails()[: len(reactor_mails()) - before]), timeout=90)
    mail = next(m for m in reactor_mails() if m["Subject"].startswith("[salt] minion1: 1 failed (state.low "))
    if "ID: e2e_low" not in mail["Text"] or "Function: cmd.run" not in mail["Text"]:
        fail(f"state.low through the reactor:\n{mail['Text'][:600]}")
    out, mail = pipe("nomatch*", "state.apply", "e2e_change", to="nomatch@example.com")
    if not mail["Subject"].startswith("[salt] 0 minions: No minions matched the target."):
        fail(f"a target that matched nothing: {mail['Subject']!r}")
    job = salt.salt("--async", "*", "state.apply", "e2e_change")
    jid = job.stdout.decode().strip().rsplit(" ", 1)[-1]
    wait_for("minion1's return in the job cache", lambda: b'"minion1"' in subprocess.run(
        [salt.bin("salt-run"), "-c", salt.conf, "jobs.lookup_jid", jid, "--out=json"], capture_output=True).stdout, timeout=60)
    listed = subprocess.run([salt.bin("salt-run"), "-c", salt.conf, "jobs.list_job", jid, "--out=json"], capture_output=True)
    check = subprocess.run([binary, "check", "--config", config], input=listed.stdout, capture_output=True)
    if check.returncode != 2 or b"(1 did not return)" not in check.stdout:
        fail(f"jobs.list_job with minion2 stopped: exit {check.returncode}: {check.stdout!r}")
    mail = run([salt.bin("salt-call"), "--local", "-c", salt.local, "state.low",
                '{"state": "test", "fun": "succeed_with_changes", "name": "ok", "__id__": "e2e_low_ok"}', "--out=json"],
               "lowok@example.com", 1 if salt_version(salt) >= (3008,) else 0)
    if "e2e_low_ok" not in mail["Text"]:
        fail(f"state.low through saltmail run: {mail['Subject']!r}\n{mail['Text'][:600]}")
    if salt_version(salt) >= (3008,):
        bus_events(salt, binary, config)
    salt.stop("master")
    mail = run([salt.bin("salt"), "-c", salt.conf, "*", "state.apply", "e2e_change", "--out=json"], "nomaster@example.com", 0)
    if "Salt request timed out. The master is not responding." not in mail["Subject"] + mail["Text"]:
        fail(f"the master stopped: {mail['Subject']!r}\n{mail['Text'][:600]}")


def bus_events(salt, binary, config):
    """Salt 3008: what the bus carries for a job run with --start-event
    (the new job, its publication, a start event, the return), read by
    salt-run state.event and piped into saltmail check: one minion, one
    return, no error."""
    bus = subprocess.Popen([salt.bin("salt-run"), "-c", salt.conf, "state.event", "salt/job/*", "pretty=False"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(3)
        salt.salt("minion1", "state.apply", "e2e_change", "--start-event", "--out=json")
        lines, kinds = [], set()
        while "ret" not in kinds:
            tag, _, data = bus.stdout.readline().partition("\t")
            if data:
                lines.append(data)
                kinds.add(tag.split("/")[3] if tag.count("/") >= 3 else tag)
    finally:
        bus.terminate()
        bus.wait(timeout=15)
    if "start" not in kinds:
        fail(f"no start event on the bus: {kinds}")
    check = subprocess.run([binary, "check", "--config", config], input="".join(lines).encode(), capture_output=True)
    if check.returncode != 1 or b"on 1 minion |" not in check.stdout or b"errors=0" not in check.stdout:
        fail(f"bus events of one job ({sorted(kinds)}): exit {check.returncode}: {check.stdout!r}")


def salt_version(salt):
    """The Salt release as a tuple of numbers: (3008, 4)."""
    out = subprocess.run([salt.bin("salt"), "--version"], capture_output=True, text=True).stdout.split()
    return tuple(int(x) for x in out[1].split("."))


if __name__ == "__main__":
    main()
