"""Helpers shared by the end-to-end scripts: free ports, bounded
polling, and a Mailpit server read back through its HTTP API."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=20.0):
    """Polls check() until it returns a true value, within timeout."""
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            sys.exit(f"e2e: timed out waiting for {what}")
        time.sleep(0.05)


class Mailpit:
    """Mailpit on free loopback ports; with starttls, STARTTLS is required
    and self.ca is the certificate to trust."""

    def __init__(self, binary, tmp, starttls=False, extra=()):
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
            args += ["--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls",
                     "--smtp-auth-accept-any"]
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
