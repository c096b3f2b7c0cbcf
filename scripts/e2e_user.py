#!/usr/bin/env python3
"""saltmail on a master that runs as `salt`, as Salt's own deb/rpm
packages run it (issue 13: 19).

Usage: e2e_user.py SALTMAIL MAILPIT SALT_VENV

A system user `salt` is made once, when missing, as the packages make it.
The master runs as that user from the start (the packages' unit says
User=salt; its dirs are chowned as their postinst does) with `user: salt`
in its config; the minion and the CLI run as root. Mailpit requires
STARTTLS and AUTH with one password, so a mail proves the password was
read. Then:

1. examples/salt/saltmail is applied as root with salt-call --local, with
   the example pillar (examples/salt/pillar) as it is, and the test's
   paths and SMTP server over it on the command line. It finds the
   master's user in the master's config by itself; the owners and modes
   are as designed, the config's spool_dir and state_dir are the dirs it
   made, and the password is neither in the installer's output nor in
   the config;
2. a highstate with a failing state: the reactor's saltmail, run by the
   master as `salt`, mails it, and its memory is `salt`'s;
3. no secret through the fileserver: a minion reads the installer's SLS
   with cp.get_file_str but no config; no file under file_roots holds
   the password; the pillar holding it reaches the master's minion only
   (from a pillar file root:salt 0640, which the master's user compiles);
4. the spool: saltmail run as `salt` against a dead server spools the
   mail in the installed spool; the cron flush line, run as the user the
   cron file names, delivers it;
5. the cron highstate line, as that user: a digest mail.
"""
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

from e2e_lib import Mailpit, Salt, as_user, finish, free_port, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER = "salt"
TO = "user-e2e@example.com"
SLS = """e2e_user_change:
  test.succeed_with_changes:
    - name: a change on {{ grains['id'] }}

e2e_user_fail:
  cmd.run:
    - name: 'echo "failing under a salt-user master" >&2; exit 3'
"""


def fail(msg):
    sys.exit("e2e user: " + msg)


def ensure_user():
    """The system user and group the packages' preinst makes."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/opt/saltstack/salt",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)


def venv_for(user, venv, dest):
    """A copy of the Salt virtualenv that user can run: the one under
    ~/.cache sits in root's 0700 home, and its Python may too (pyenv).
    Hard links where they work; a Python of the same minor version that
    user can run (the venv's own, else Debian's) as its base; its
    scripts' #! lines, and pyvenv.cfg, rewritten as new files so that the
    original keeps its own."""
    venv = os.path.abspath(venv)
    py = os.path.join(venv, "bin", "python3")
    ver, base = subprocess.run([py, "-c", "import sys; print('%d.%d' % sys.version_info[:2], sys._base_executable)"],
                               capture_output=True, text=True, check=True).stdout.split()
    def user_runs(exe):
        try:
            return subprocess.run([exe, "-c", ""], **as_user(user)).returncode == 0
        except OSError:  # not there, or in a dir user may not enter
            return False
    runs = [p for p in (os.path.realpath(base), f"/usr/bin/python{ver}") if user_runs(p)]
    if not runs:
        fail(f"no Python {ver} that {user} may run (the venv's base is {base})")
    if subprocess.run(["cp", "-al", venv, dest], capture_output=True).returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        subprocess.run(["cp", "-a", venv, dest], check=True)

    def rewrite(path, text):
        mode = os.stat(path).st_mode
        os.unlink(path)  # a hard link: never write through it
        with open(path, "wb") as f:
            f.write(text)
        os.chmod(path, mode)

    os.unlink(os.path.join(dest, "bin", "python3"))
    os.symlink(runs[0], os.path.join(dest, "bin", "python3"))
    cfg = os.path.join(dest, "pyvenv.cfg")
    lines = [f"home = {os.path.dirname(runs[0])}" if l.startswith("home =") else l
             for l in open(cfg).read().splitlines() if not l.startswith("executable =")]
    rewrite(cfg, ("\n".join(lines) + "\n").encode())
    old = f"#!{venv}/bin/".encode()
    for path in glob.glob(os.path.join(dest, "bin", "*")):
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                text = f.read()
            if text.startswith(old):
                rewrite(path, f"#!{dest}/bin/".encode() + text[len(old):])
    return dest


def main():
    saltmail, mailpit_bin, venv = sys.argv[1], sys.argv[2], sys.argv[3]
    ensure_user()
    root = tempfile.mkdtemp(prefix="saltmail-user-")
    os.chmod(root, 0o755)  # the master's user reaches its files under here
    password = secrets.token_urlsafe(18)
    auth = os.path.join(root, "smtp-auth")
    with open(auth, "w") as f:
        f.write(f"saltmail:{password}\n")
    # with an auth file Mailpit refuses MAIL FROM before AUTH (530) and a
    # wrong password (535): each mail it holds proves the password
    mp = Mailpit(mailpit_bin, root, starttls=True, auth_file=auth)
    salt = None
    try:
        salt = Salt(venv_for(USER, venv, os.path.join(root, "venv")), root, master_user=USER)
        run_scenarios(saltmail, mp, salt, root, password)
        version = subprocess.run([salt.bin("salt"), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"e2e user ({version}): installed for a master running as {USER}; reactor, spool, flush and cron mail; no secret in the fileserver")
    finally:
        if salt:
            salt.stop_all(signal.SIGKILL)
        finish(mp, root)


def install(saltmail, mp, salt, root, password):
    """Serves the installer and its files, and the example pillar from a
    pillar_roots the master compiles as `salt` too (so the pillar is
    root:salt 0640, as its comment says); applies it as root."""
    srv, pillar = os.path.join(root, "srv", "salt"), os.path.join(root, "pillar")
    files = os.path.join(srv, "saltmail", "files")
    os.makedirs(files)
    os.makedirs(pillar)
    shutil.copy(os.path.join(ROOT, "examples/salt/saltmail/init.sls"), os.path.join(srv, "saltmail", "init.sls"))
    for src, name in (("reactor/saltmail.sls", "reactor.sls"), ("master.d/saltmail.conf", "master.conf"), ("cron/saltmail", "cron")):
        shutil.copy(os.path.join(ROOT, "examples", src), os.path.join(files, name))
    shutil.copy(saltmail, os.path.join(files, "saltmail"))
    with open(os.path.join(srv, "e2e_user.sls"), "w") as f:
        f.write(SLS)
    with open(os.path.join(srv, "top.sls"), "w") as f:
        f.write("base:\n  minion1:\n    - e2e_user\n")
    shutil.copy(os.path.join(ROOT, "examples/salt/pillar/saltmail.sls"), pillar)
    with open(os.path.join(ROOT, "examples/salt/pillar/top.sls")) as f:
        top = f.read().replace("'master1.example.com'", "local-master")  # the master's own minion id
    with open(os.path.join(pillar, "top.sls"), "w") as f:
        f.write(top)
    gid = pwd.getpwnam(USER).pw_gid
    for path, mode in ((pillar, 0o750), (os.path.join(pillar, "top.sls"), 0o640), (os.path.join(pillar, "saltmail.sls"), 0o640)):
        os.chown(path, 0, gid)
        os.chmod(path, mode)
    for conf in (os.path.join(salt.conf, "master"), os.path.join(salt.local, "minion")):
        with open(conf, "a") as f:
            f.write(f"pillar_roots:\n  base: [{pillar}]\n")
    # over the example pillar: the test's paths and server (pillar= merges)
    over = {"bin": f"{root}/bin/saltmail", "config": f"{root}/etc/saltmail.yaml", "mode": "reactor",
            "master_d": f"{salt.conf}/master.d", "reactor_dir": f"{root}/reactor",
            "cron_d": f"{root}/cron.d", "spool_dir": f"{root}/spool", "smtp_password": password,
            "settings": {"to": [TO], "repeat_interval": "0s", "retry": {"attempts": 1},
                         "smtp": {"host": "127.0.0.1", "port": mp.smtp, "ca_file": mp.ca}}}
    apply(salt, over, password)
    return over


def apply(salt, over, password):
    """Applies the installer as root, with over merged into the pillar."""
    out = subprocess.run([salt.bin("salt-call"), "--local", "-c", salt.local, "state.apply", "saltmail",
                          "pillar=" + json.dumps({"saltmail": over}), "--out=json"], capture_output=True)
    res = json.loads(out.stdout or b"{}").get("local")
    if out.returncode != 0 or not isinstance(res, dict) or not all(s["result"] for s in res.values()):
        fail(f"installing with examples/salt/saltmail failed: {out.stdout.decode()} {out.stderr.decode()[-2000:]}")
    if password.encode() in out.stdout + out.stderr:
        fail("the installer's output shows the SMTP password")


def check_install(salt, root, over, password):
    """Owners and modes as the installer's table says; one spool_dir."""
    salt_uid, salt_gid = pwd.getpwnam(USER).pw_uid, pwd.getpwnam(USER).pw_gid
    want = {over["bin"]: (0, 0o755), over["config"]: (salt_uid, 0o600), f"{root}/etc/saltmail.pass": (salt_uid, 0o600),
            over["spool_dir"]: (salt_uid, 0o700), f"{root}/saltmail-state": (salt_uid, 0o700),
            f"{over['reactor_dir']}/saltmail.sls": (0, 0o644), f"{over['master_d']}/saltmail.conf": (0, 0o644),
            f"{over['cron_d']}/saltmail": (0, 0o644)}
    for path, (uid, mode) in want.items():
        st = os.stat(path)
        if (st.st_uid, st.st_mode & 0o777) != (uid, mode) or (uid and st.st_gid != salt_gid):
            fail(f"{path}: uid {st.st_uid} gid {st.st_gid} mode {st.st_mode & 0o777:o}, want uid {uid} mode {mode:o}")
    if open(f"{root}/etc/saltmail.pass").read().strip() != password:
        fail("the password file does not hold the pillar's password")
    config = open(over["config"]).read()
    for line in (f"spool_dir: {over['spool_dir']}", f"state_dir: {root}/saltmail-state",
                 f"password_file: {root}/etc/saltmail.pass"):
        if line not in config:
            fail(f"the config lacks {line!r}:\n{config}")
    if password in config:
        fail("the config holds the password")
    cron = [l.split() for l in open(f"{over['cron_d']}/saltmail") if "saltmail" in l and not l.startswith("#")]
    if len(cron) != 1 or any(l[5] != USER for l in cron):  # mode reactor: the flush line only
        fail(f"the cron lines do not run as {USER}: {cron}")


def run_scenarios(saltmail, mp, salt, root, password):
    over = install(saltmail, mp, salt, root, password)
    check_install(salt, root, over, password)
    salt.start_master()
    salt.start_minion("minion1")
    wait_for("minion1 to answer", lambda: salt.ping(["minion1"]), timeout=120)
    with open(f"/proc/{salt.procs['master'].pid}/status") as f:
        uid = next(l.split()[1] for l in f if l.startswith("Uid:"))
    if int(uid) != pwd.getpwnam(USER).pw_uid:
        fail(f"the master runs as uid {uid}")

    def mails():
        return mp.search(f"to:{TO}")

    def master_log():
        lines = open(os.path.join(root, "master.log"), errors="replace").read().splitlines()
        return "\n".join([l for l in lines if "cmdmod" in l or "ermission" in l][-15:])

    # 2. the reactor, run by the master as salt
    out = salt.salt("minion1", "state.highstate", "--out=json")
    wait_for("the reactor's mail", lambda: len(mails()) == 1, timeout=60, detail=master_log)
    mail = mails()[0]
    if not mail["Subject"].startswith("[salt] minion1: 1 failed, 1 changed (state.highstate "):
        fail(f"reactor mail: {mail['Subject']!r}")
    if "failing under a salt-user master" not in mail["Text"]:
        fail(f"reactor mail:\n{mail['Text'][:600]}")
    memory = os.listdir(f"{root}/saltmail-state")
    if not memory or any(os.stat(os.path.join(root, "saltmail-state", n)).st_uid != pwd.getpwnam(USER).pw_uid for n in memory):
        fail(f"the memory is not {USER}'s: {memory}")

    # 3. no secret through the fileserver; the pillar only to the master's minion
    got = salt.salt("minion1", "cp.get_file_str", "salt://saltmail/init.sls", "--out=json").stdout
    if b"saltmail_binary" not in got:
        fail(f"a minion could not read the installer SLS, so the next check proves nothing: {got[:300]!r}")
    for path in ("salt://saltmail/files/saltmail.yaml", "salt://saltmail/files/saltmail.pass"):
        got = json.loads(salt.salt("minion1", "cp.get_file_str", path, "--out=json").stdout or b"{}")
        if got.get("minion1") not in (False, None, ""):
            fail(f"a minion read {path}: {got}")
    for path in glob.glob(os.path.join(root, "srv", "**"), recursive=True):
        if os.path.isfile(path) and password.encode() in open(path, "rb").read():
            fail(f"{path}, in the fileserver, holds the password")
    got = json.loads(salt.salt("minion1", "pillar.get", "saltmail", "--out=json").stdout or b"{}")
    if got.get("minion1") != "":
        fail(f"minion1 sees the saltmail pillar: {got}")
    # ...not because salt could not read it (root:salt 0640): as salt, the
    # same pillar compiles for the master's own minion
    shown = subprocess.run([salt.bin("salt-run"), "-c", salt.conf, "pillar.show_pillar", "local-master", "--out=json"],
                           capture_output=True, **as_user(USER))
    if b'"smtp_password"' not in shown.stdout:
        fail(f"as {USER}, the saltmail pillar does not compile for local-master: {shown.stdout[:300]!r} {shown.stderr[-500:]!r}")

    # 4. the spool: as salt, a dead server spools; the cron flush line delivers
    spooler = subprocess.run([over["bin"], "--config", over["config"], "--smtp-port", str(free_port())],
                             input=out.stdout, capture_output=True, **as_user(USER))
    spooled = sorted(os.listdir(over["spool_dir"]))
    if spooler.returncode != 1 or not any(n.endswith(".eml") for n in spooled):
        fail(f"spooling as {USER}: exit {spooler.returncode}, {spooler.stderr.decode()}, spool {spooled}")
    cron = [l for l in open(f"{over['cron_d']}/saltmail") if not l.startswith("#")]
    flush = next(l for l in cron if " flush " in l).split(None, 6)[6].strip()  # m h dom mon dow user COMMAND
    r = subprocess.run(["sh", "-c", flush], capture_output=True, **as_user(USER))
    if r.returncode != 0 or os.listdir(over["spool_dir"]):
        fail(f"the cron flush line as {USER}: exit {r.returncode}, {r.stderr.decode()}, spool {os.listdir(over['spool_dir'])}")
    wait_for("the flushed mail", lambda: len(mails()) == 2)

    # 5. mode cron (its own dirs, beside the reactor in use): the cron
    # highstate line as salt: its digest, and the reactor's mail
    scratch = os.path.join(root, "mode-cron")
    apply(salt, dict(over, mode="cron", cron_d=f"{scratch}/cron.d", reactor_dir=f"{scratch}/reactor",
                     master_d=f"{scratch}/master.d", master_conf=f"{salt.conf}/master"), password)
    cron = [l for l in open(f"{scratch}/cron.d/saltmail") if not l.startswith("#")]
    run = next(l for l in cron if " run " in l).split(None, 6)[6].strip()
    env = dict(as_user(USER)["env"], SALT_CONFIG_DIR=salt.conf,
               PATH=os.path.join(salt.venv, "bin") + os.pathsep + os.environ["PATH"])
    r = subprocess.run(["sh", "-c", run], capture_output=True, **dict(as_user(USER), env=env))
    if r.returncode != 1 or r.stdout or r.stderr:  # salt exits 1: a state failed
        fail(f"the cron run line as {USER}: exit {r.returncode}, {r.stdout!r} {r.stderr!r}")
    wait_for("the cron digest and the reactor's mail", lambda: len(mails()) == 4, timeout=60, detail=master_log)


if __name__ == "__main__":
    main()
