"""Helpers shared by the end-to-end scripts: free ports, bounded
polling, a Mailpit server read back through its HTTP API, and a Salt
master with minions on loopback."""
import getpass
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def stop_on_sigterm():
    """scripts/test runs some suites in the background and stops them with
    SIGTERM: as SystemExit, it runs their cleanup, which stops the Salt
    daemons they started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("e2e: terminated"))


def finish(mp, root):
    """A run's last cleanup: Mailpit stopped, and root removed, or kept
    and named with KEEP_E2E."""
    mp.stop()
    if os.environ.get("KEEP_E2E"):
        print("kept", root)
    else:
        shutil.rmtree(root, ignore_errors=True)


def wait_for(what, check, timeout=20.0, detail=None):
    """Polls check() until it returns a true value, within timeout; on a
    time-out, detail() may say why (a log's tail)."""
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            sys.exit(f"e2e: timed out waiting for {what}" + (f"\n{detail()}" if detail else ""))
        time.sleep(0.05)


class Mailpit:
    """Mailpit on free loopback ports; with starttls, STARTTLS is required
    and self.ca is the certificate to trust. AUTH accepts any password,
    or with auth_file only those of that file (user:password lines)."""

    def __init__(self, binary, tmp, starttls=False, auth_file=None, extra=()):
        self.http = free_port()
        self.smtp = free_port()
        args = [binary, "--listen", f"127.0.0.1:{self.http}", "--smtp", f"127.0.0.1:{self.smtp}",
                "--smtp-disable-rdns", "--max", "5000", "--quiet",
                "--database", os.path.join(tmp, "mailpit.db")]
        if starttls:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                 "-keyout", key, "-out", cert],
                check=True, capture_output=True)
            self.ca = cert
            args += ["--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls"]
            args += ["--smtp-auth-file", auth_file] if auth_file else ["--smtp-auth-accept-any"]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("Mailpit's API", self.up)

    def up(self):
        try:
            self.api("/api/v1/info")
            return True
        except OSError:
            return False

    def api(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}{path}", timeout=5) as r:
            return json.load(r)

    def count(self):
        return self.api("/api/v1/messages?limit=1")["messages_count"]

    def search(self, query):
        """Messages matching a Mailpit search, newest first, in full."""
        q = urllib.parse.quote(query)
        found = self.api(f"/api/v1/search?query={q}&limit=200")["messages"]
        return [self.api(f"/api/v1/message/{m['ID']}") for m in found]

    def latest(self):
        summary = self.api("/api/v1/messages?limit=1")["messages"][0]
        return summary, self.api(f"/api/v1/message/{summary['ID']}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def as_user(user):
    """subprocess arguments that run a command as user, with its primary
    group only and its own home, as a service manager's User= would; none
    when that is who runs this script already."""
    if user == getpass.getuser():
        return {}
    pw = pwd.getpwnam(user)
    env = dict(os.environ, HOME=pw.pw_dir, USER=user, LOGNAME=user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [], "env": env, "cwd": "/"}


class Salt:
    """A salt-master and minions on loopback. The minions run as the
    caller (root in CI); the master as master_user, the caller by
    default. host is the loopback address the master listens on (another
    than 127.0.0.1 keeps it apart from masters others run there)."""

    def __init__(self, venv, root, master_user=None, host="127.0.0.1", extra_master_config=""):
        self.venv, self.root, self.host = venv, root, host
        self.conf = os.path.join(root, "etc", "salt")
        self.procs = {}
        self.pub, self.ret = free_port(host), free_port(host)
        os.makedirs(os.path.join(self.conf, "master.d"), exist_ok=True)
        user = getpass.getuser()
        self.master_user = master_user or user
        with open(os.path.join(self.conf, "master"), "w") as f:
            f.write(f"""root_dir: {root}
interface: {host}
publish_port: {self.pub}
ret_port: {self.ret}
auto_accept: True
user: {self.master_user}
worker_threads: 2
file_roots:
  base: [{root}/srv/salt]
log_file: {root}/master.log
log_level_logfile: info
{extra_master_config}""")
        # salt-call --local, for the cron-style runs and the installer
        self.local = os.path.join(root, "local")
        os.makedirs(self.local, exist_ok=True)
        with open(os.path.join(self.local, "minion"), "w") as f:
            f.write(f"""id: local-master
root_dir: {self.local}
file_client: local
file_roots:
  base: [{root}/srv/salt]
user: {user}
log_file: {self.local}/minion.log
""")

    @staticmethod
    def syndic_master_config(upper):
        """The lines of a syndic node's master config that point its
        salt-syndic at upper's master."""
        return f"syndic_master: {upper.host}\nsyndic_master_port: {upper.ret}\n"

    def bin(self, name):
        return os.path.join(self.venv, "bin", name)

    def start(self, name, args, user=None):
        log = open(os.path.join(self.root, name + ".out"), "w")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            **as_user(user or getpass.getuser()))

    def start_master(self):
        if self.master_user != getpass.getuser():
            self.own_master_dirs()
        self.start("master", [self.bin("salt-master"), "-c", self.conf], user=self.master_user)

    def own_master_dirs(self):
        """What the postinst of Salt's salt-master package does before its
        unit starts the master with User=salt: the master's pki dir,
        master.d, log files, cachedir and sock dir belong to that user
        (paths under root_dir, as the master config puts them)."""
        pw = pwd.getpwnam(self.master_user)
        dirs = [os.path.join(self.conf, "pki", "master"), os.path.join(self.conf, "master.d"),
                os.path.join(self.root, "var", "cache", "salt", "master"),
                os.path.join(self.root, "var", "run", "salt", "master")]
        logs = [os.path.join(self.root, "master.log"), os.path.join(self.root, "var", "log", "salt", "key")]
        for d in dirs:
            os.makedirs(d, exist_ok=True)
        for f in logs:
            os.makedirs(os.path.dirname(f), exist_ok=True)
            open(f, "a").close()
            os.chmod(f, 0o640)
        for top in dirs + logs:  # chown -R
            os.chown(top, pw.pw_uid, pw.pw_gid)
            for d, subdirs, files in os.walk(top):
                for n in subdirs + files:
                    os.chown(os.path.join(d, n), pw.pw_uid, pw.pw_gid)

    def start_minion(self, mid, masters=None):
        """A minion of this master; with masters (a list of "host:port"
        of ret ports), a minion of each of them (hot-hot multi-master)."""
        d = os.path.join(self.root, mid)
        os.makedirs(d, exist_ok=True)
        if masters:
            master = "master:\n" + "".join(f"  - {m}\n" for m in masters)
        else:
            master = f"master: {self.host}\nmaster_port: {self.ret}\npublish_port: {self.pub}\n"
        with open(os.path.join(d, "minion"), "w") as f:
            f.write(f"""id: {mid}
root_dir: {d}
{master}user: {getpass.getuser()}
log_file: {d}/minion.log
acceptance_wait_time: 1
random_reauth_delay: 0
""")
        self.start(mid, [self.bin("salt-minion"), "-c", d])

    def start_syndic(self, sid, upper):
        """salt-syndic beside this master, relaying it to upper (a Salt
        whose master has order_masters: True). This master must have
        been configured with syndic_master_config(upper). The syndic
        reads the master's config and, for its own id and keys, a minion
        file in the same directory."""
        d = os.path.join(self.root, "syndic")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(self.conf, "minion"), "w") as f:
            f.write(f"""id: {sid}
root_dir: {d}
publish_port: {upper.pub}
syndic_log_file: {d}/syndic.log
log_level_logfile: info
acceptance_wait_time: 1
random_reauth_delay: 0
""")
        self.start("syndic", [self.bin("salt-syndic"), "-c", self.conf], user=self.master_user)

    def stop(self, name, sig=signal.SIGTERM):
        p = self.procs.pop(name)
        try:
            os.killpg(p.pid, sig)
            p.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=15)

    def stop_all(self, sig=signal.SIGTERM):
        """SIGKILL when nothing is left to prove: a master takes seconds
        to stop cleanly."""
        for name in list(self.procs):
            self.stop(name, sig)

    def salt(self, *args, timeout=120):
        return subprocess.run([self.bin("salt"), "-c", self.conf, *args], capture_output=True, timeout=timeout)

    def ping(self, minions):
        out = self.salt("*", "test.ping", "--out=json", "--static", "-t", "3").stdout
        try:
            return all(json.loads(out or b"{}").get(m) is True for m in minions)
        except ValueError:
            return False
