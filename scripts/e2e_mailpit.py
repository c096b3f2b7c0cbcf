#!/usr/bin/env python3
"""End to end against a real SMTP server: Mailpit on loopback.

Every capture of real Salt output in testdata/corpus is piped through the
saltmail binary (STARTTLS required, AUTH, a private CA). Mailpit's HTTP API
must then show exactly one message for each capture that is news (with the
subject `saltmail render` shows, the recipients, both parts) and none for a
clean one. Then a Mailpit that refuses one recipient at RCPT TO: the
others get the alert, and only that one waits in the spool.
Usage: e2e_mailpit.py SALTMAIL MAILPIT
"""
import email.header
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

from e2e_lib import Mailpit, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def decoded_subject(eml):
    for line in eml.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n ", " ").split("\r\n"):
        if line.startswith("Subject: "):
            return str(email.header.make_header(email.header.decode_header(line[9:])))
    return None


def main():
    saltmail, mailpit_bin = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="saltmail-e2e-")
    mp = Mailpit(mailpit_bin, tmp, starttls=True)
    try:
        cfg = os.path.join(tmp, "saltmail.yaml")
        with open(cfg, "w") as f:
            f.write(f"""from: Salt <salt@example.com>
to: [ops@example.com]
cc: [lead@example.com]
bcc: [audit@example.com]
spool_dir: {tmp}/spool
repeat_interval: 0s   # every capture is mailed, identical ones too,
send_resolved: false  # and only its own mail
smtp:
  host: 127.0.0.1
  port: {mp.smtp}
  tls: starttls
  user: saltmail
  ca_file: {mp.ca}
  timeout: 5s
""")
        os.chmod(cfg, 0o600)
        env = dict(os.environ, SALTMAIL_SMTP_PASSWORD="e2e-secret")
        captures = sorted(glob.glob(os.path.join(ROOT, "testdata/corpus/*/*.out"))
                          + glob.glob(os.path.join(ROOT, "testdata/corpus/reactor/*.jsonl")))
        mails = clean = 0
        for path in captures:
            name = os.path.relpath(path, os.path.join(ROOT, "testdata/corpus"))
            data = open(path, "rb").read()
            render = subprocess.run([saltmail, "render", "--config", cfg], input=data, capture_output=True, env=env)
            want = decoded_subject(render.stdout) if render.stdout else None
            before = mp.count()
            sent = subprocess.run([saltmail, "--config", cfg], input=data, capture_output=True, env=env)
            unreadable = render.returncode == 3
            if sent.returncode != (3 if unreadable else 0):
                sys.exit(f"e2e: {name}: saltmail exited {sent.returncode}: {sent.stderr.decode()}")
            if want is None:
                if mp.count() != before:
                    sys.exit(f"e2e: {name}: a clean input produced a mail")
                clean += 1
                continue
            wait_for(f"the mail of {name}", lambda: mp.count() == before + 1)
            summary, msg = mp.latest()
            problems = []
            if msg["Subject"] != want:
                problems.append(f"subject {msg['Subject']!r}, render says {want!r}")
            if [a["Address"] for a in msg["To"]] != ["ops@example.com"] or [a["Address"] for a in msg["Cc"]] != ["lead@example.com"]:
                problems.append(f"recipients {msg['To']} {msg['Cc']}")
            if [a["Address"] for a in msg.get("Bcc") or []] != ["audit@example.com"]:
                problems.append(f"Bcc (envelope) {msg.get('Bcc')}")
            if msg["From"]["Address"] != "salt@example.com" or msg["From"]["Name"] != "Salt":
                problems.append(f"from {msg['From']}")
            if not msg["Text"].startswith("Salt: ") or "<table" not in msg["HTML"]:
                problems.append("text or HTML part missing")
            if unreadable and "could not be read" not in msg["Text"]:
                problems.append("the mail does not say the input was unreadable")
            if problems:
                sys.exit(f"e2e: {name}: " + "; ".join(problems))
            mails += 1
        print(f"e2e mailpit: {len(captures)} captures: {mails} mails read back with the right subject, "
              f"recipients and both parts; {clean} clean inputs sent nothing")
        if mails < 80 or clean < 10:
            sys.exit("e2e: fewer captures than expected")
    finally:
        mp.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    refused_recipient(saltmail, mailpit_bin)


def refused_recipient(saltmail, mailpit_bin):
    """A server that refuses one recipient (a typo in --bcc) at RCPT TO:
    the others still get the alert, and the spool keeps it for that one."""
    tmp = tempfile.mkdtemp(prefix="saltmail-e2e-")
    mp = Mailpit(mailpit_bin, tmp, extra=["--smtp-allowed-recipients", r"@example\.com$"])
    try:
        typo = "audit@exmaple.com"
        spool = os.path.join(tmp, "spool")
        sent = subprocess.run(
            [saltmail, "--config", "/dev/null", "--smtp-host", "127.0.0.1", "--smtp-port", str(mp.smtp),
             "--smtp-tls", "none", "--from", "salt@example.com", "--to", "ops@example.com", "--bcc", typo,
             "--spool-dir", spool, "--state-dir", os.path.join(tmp, "state"),
             os.path.join(ROOT, "examples/returns/highstate.json")],
            capture_output=True, text=True)
        if sent.returncode != 1 or typo not in sent.stderr or "550" not in sent.stderr:
            sys.exit(f"e2e: refused recipient: exit {sent.returncode}, stderr {sent.stderr!r}")
        wait_for("the mail to the accepted recipient", lambda: mp.count() == 1)
        _, msg = mp.latest()
        envs = glob.glob(os.path.join(spool, "*.env"))
        spooled_to = [json.load(open(e))["to"] for e in envs]
        if [a["Address"] for a in msg["To"]] != ["ops@example.com"] or msg.get("Bcc") or spooled_to != [[typo]]:
            sys.exit(f"e2e: refused recipient: got To {msg['To']}, Bcc {msg.get('Bcc')}, spooled for {spooled_to}")
        print(f"e2e mailpit: a recipient refused at RCPT TO (550) is spooled alone; ops@example.com got the alert")
    finally:
        mp.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
