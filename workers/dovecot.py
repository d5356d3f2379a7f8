"""A private, throwaway Dovecot IMAP server on a loopback port, for tests and benchmarks.

Everything lives in one temporary directory (configuration, mail, sockets, log), so
several can run at once beside a system Dovecot. Only IMAP listens, only on 127.0.0.1,
plain-text logins allowed because nothing leaves the machine.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from channels.email.imap import ImapEndpoint

START_TIMEOUT_S = 15.0

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
{ssl_files}disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
first_valid_gid = 0
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = static
  args = password=secret-%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


class DovecotUnavailable(Exception):
    """Dovecot is not installed here (``apt-get install -y dovecot-imapd``)."""


class Dovecot:
    """``with Dovecot() as server:`` a running server; ``server.add_user(...)``."""

    def __init__(self, *, tls: bool = False) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).is_file():
            raise DovecotUnavailable("dovecot is not installed (apt-get install -y "
                                     "dovecot-imapd)")
        self._binary = binary
        self._root = Path(tempfile.mkdtemp(prefix="switchboard-dovecot-"))
        self._process: subprocess.Popen[bytes] | None = None
        self.host = "127.0.0.1"
        self.port = _free_port()
        # With tls, a self-signed certificate for 127.0.0.1: STARTTLS on ``port`` and
        # implicit TLS on ``tls_port``; clients trust it through ``ssl_context()``.
        self.tls = tls
        self.tls_port = _free_port() if tls else 0
        self._users: dict[str, str] = {}

    @property
    def config(self) -> Path:
        return self._root / "dovecot.conf"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        for sub in ("run", "state", "mail"):
            (self._root / sub).mkdir(parents=True, exist_ok=True)
        # Dovecot's login processes run as dovenull and must reach the sockets.
        self._root.chmod(0o755)
        uid, gid = _mail_owner()
        os.chown(self._root / "mail", uid, gid)
        ssl_files = ""
        if self.tls:
            self._make_certificate()
            ssl_files = (f"ssl_cert = <{self.certificate}\n"
                         f"ssl_key = <{self._root / 'key.pem'}\n")
        self.config.write_text(_CONFIG.format(
            root=self._root, port=self.port, uid=uid, gid=gid, tls_port=self.tls_port,
            ssl="yes" if self.tls else "no", ssl_files=ssl_files))
        self._process = subprocess.Popen(  # noqa: S603 - our own binary and config
            [self._binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start:\n{self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as conn:
                    if conn.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                # Synchronous by design: runs before any event loop (session fixture, bench).
                time.sleep(0.05)  # noqa: TID251
        tail = self._log_tail()
        self.stop()
        raise RuntimeError(f"dovecot did not answer within {START_TIMEOUT_S:g} s:\n{tail}")

    @property
    def certificate(self) -> Path:
        return self._root / "cert.pem"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def _make_certificate(self) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [shutil.which("openssl") or "/usr/bin/openssl", "req", "-x509", "-newkey",
             "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self._root / "key.pem"), "-out", str(self.certificate)],
            check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(self._root, ignore_errors=True)

    def add_user(self, name: str) -> ImapEndpoint:
        """A mailbox for ``name``. Every user exists; the password is derived from the name
        (a passwd-file is re-read by mtime, which missed users added within one second)."""
        self._users[name] = f"secret-{name}"
        return self.endpoint(name)

    def endpoint(self, user: str, folder: str = "INBOX") -> ImapEndpoint:
        return ImapEndpoint(host=self.host, port=self.port, security="none", user=user,
                            password=self._users[user], folder=folder, timeout_s=10.0)

    def url(self, user: str, folder: str = "INBOX") -> str:
        return f"imap://{user}:{self._users[user]}@{self.host}:{self.port}/{folder}"

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> None:
        """Give the folder a new UIDVALIDITY, as a server migration or restore does."""
        new = int(time.time()) + 1000
        subprocess.run(  # noqa: S603 - our own binary and config
            [shutil.which("doveadm") or "/usr/bin/doveadm", "-c", str(self.config),
             "mailbox", "update", "--uid-validity", str(new), "-u", user, folder],
            check=True, capture_output=True, timeout=30)

    def _log_tail(self) -> str:
        log = self._root / "dovecot.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        process = self._process
        if process is not None and process.poll() is not None and process.stderr is not None:
            text += process.stderr.read().decode(errors="replace")
        return text[-3000:]


def _mail_owner() -> tuple[int, int]:
    """Dovecot refuses to keep mail as root; as root, mail belongs to its own user."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    account = pwd.getpwnam("dovecot")
    return account.pw_uid, account.pw_gid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
