#!/usr/bin/env python3
"""saltmail after REAL salt-ssh: an sshd on loopback, a target user.

Usage: e2e_ssh.py SALTMAIL SALT_VENV

Starts Debian's sshd on a free loopback port with a key of its own, for
a user made for the test (saltmail-e2e, shell /bin/sh: salt-ssh's shim
needs a plain login; made once, when missing), and runs salt-ssh with a
roster for it. Then:

1. a state run with a failure and a change: `saltmail check` sees both;
2. the same target with a pre-flight script that fails, as when the
   function cannot run there: salt-ssh returns {_error, stderr, retcode,
   parsed: null} for it, and `saltmail check` says the target is in
   error (CRITICAL), with _error and stderr in the mail.
"""
import email
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

from e2e_lib import free_port, wait_for

USER = "saltmail-e2e"
SLS = """e2e_ssh_fail:
  cmd.run:
    - name: 'echo out; echo "ssh failure" >&2; exit 2'
e2e_ssh_change:
  test.succeed_with_changes:
    - name: a change over ssh
"""


def fail(msg):
    sys.exit("e2e ssh: " + msg)


def ensure_user():
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    subprocess.run(["usermod", "-p", "*", USER], check=True)  # unlocked, no password: keys only


def start_sshd(root):
    port = free_port()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(root, name)], check=True)
    keys = os.path.join(root, "authorized_keys")
    shutil.copy(os.path.join(root, "client.pub"), keys)
    os.chmod(keys, 0o644)
    os.chmod(root, 0o755)
    conf = os.path.join(root, "sshd_config")
    with open(conf, "w") as f:
        f.write(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {root}/host
PidFile {root}/sshd.pid
AuthorizedKeysFile {keys}
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
Subsystem sftp /usr/lib/openssh/sftp-server
""")
    os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", conf, "-E", os.path.join(root, "sshd.log")])

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for("sshd", up)
    return proc, port


def main():
    saltmail, venv = sys.argv[1], sys.argv[2]
    ensure_user()
    root = tempfile.mkdtemp(prefix="saltmail-ssh-")
    sshd = None
    try:
        sshd, port = start_sshd(root)
        run_scenarios(saltmail, venv, root, port)
        version = subprocess.run([os.path.join(venv, "bin", "salt"), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"e2e ssh ({version}): salt-ssh's states and its failure to run on a target, proven through saltmail check")
    finally:
        if sshd:
            sshd.terminate()
            sshd.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)


def run_scenarios(saltmail, venv, root, port):
    conf, srv = os.path.join(root, "conf"), os.path.join(root, "srv")
    os.makedirs(conf)
    os.makedirs(srv)
    with open(os.path.join(srv, "e2e_ssh.sls"), "w") as f:
        f.write(SLS)
    with open(os.path.join(conf, "master"), "w") as f:
        f.write(f"root_dir: {root}/salt\nfile_roots:\n  base: [{srv}]\nlog_file: {root}/salt/master.log\n")
    preflight = os.path.join(root, "preflight.sh")
    with open(preflight, "w") as f:
        f.write('#!/bin/sh\necho "pre-flight: this target cannot run it" >&2\nexit 3\n')
    os.chmod(preflight, 0o755)
    target = f"  host: 127.0.0.1\n  port: {port}\n  user: {USER}\n  priv: {root}/client\n"
    with open(os.path.join(conf, "roster"), "w") as f:
        f.write(f"good:\n{target}bad:\n{target}  ssh_pre_flight: {preflight}\n")

    def salt_ssh(tgt, *extra):
        args = [os.path.join(venv, "bin", "salt-ssh"), "-c", conf, "--roster-file", os.path.join(conf, "roster"),
                "-i", "--ignore-host-keys", *extra, tgt, "state.apply", "e2e_ssh", "--out=json"]
        out = subprocess.run(args, capture_output=True, timeout=300)
        if not out.stdout.strip():
            fail(f"salt-ssh {tgt} printed nothing (exit {out.returncode}): {out.stderr.decode()[-1500:]}")
        return out.stdout

    def check(stdout, want_code, want):
        res = subprocess.run([saltmail, "check", "--config", "/dev/null"], input=stdout, capture_output=True)
        if res.returncode != want_code or want.encode() not in res.stdout:
            fail(f"check: exit {res.returncode} (want {want_code}): {res.stdout!r}, want {want!r}\n{stdout[:600]!r}")

    check(salt_ssh("good"), 2, "SALT CRITICAL - 1 failed, 1 changed, 0 pending on 1 minion |")
    bad = salt_ssh("bad", "--pre-flight")
    check(bad, 2, "(1 with errors)")
    rendered = subprocess.run([saltmail, "render", "--config", "/dev/null", "--to", "ops@example.com", "--state-dir", os.path.join(root, "state")],
                              input=bad, capture_output=True)
    msg = email.message_from_bytes(rendered.stdout)
    text = next((p.get_payload(decode=True).decode() for p in msg.walk() if p.get_content_type() == "text/plain"), "")
    # 3007 and 3008 say why in _error; 3006 gives the exit status only
    if not ("The command resulted in a non-zero exit code" in text or "did not run (retcode 3)" in text) or "this target cannot run it" not in text:
        fail(f"the mail lacks salt-ssh's error:\n{text}")


if __name__ == "__main__":
    main()
