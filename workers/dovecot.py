"""A private, throwaway Dovecot IMAP server on a loopback port, for tests and benchmarks.

Everything lives in one temporary directory (configuration, users, mail, sockets, log), so
several can run at once beside a system Dovecot: only IMAP listens, only on 127.0.0.1, on a
port picked free; plain-text logins are allowed because nothing leaves the machine.

Dovecot quirks this works around:

* mail may not belong to uid 0: as root, mail belongs to the ``dovecot`` account;
* a passwd-file is re-read at most once a second, so a user added just after a login
  attempt would be unknown: each user gets a passwd-file of their own;
* after a refused login, every later login from the same IP waits up to 15 s (the anvil
  "auth penalty"), which would make one test's wrong password slow down the next ones:
  the penalty is switched off.
"""

from __future__ import annotations

import asyncio
import base64
import grp
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from channels.email.imap import ImapEndpoint

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
DOVEADM_TIMEOUT_S = 30.0
_START_ATTEMPTS = 3  # a port found free can be taken by someone else before Dovecot binds it
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$")  # within auth_username_chars

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
login_greeting = {greeting}
ssl = {ssl}
{ssl_files}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u/Maildir
first_valid_uid = 1
first_valid_gid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
passdb {{
  driver = passwd-file
  args = {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = {root}/users/%u
}}
service imap-login {{
  {login_chroot}inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  {anvil_chroot}unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


class DovecotUnavailable(Exception):
    """Dovecot is not installed here (``apt-get install -y dovecot-imapd``)."""


class DovecotError(RuntimeError):
    """Dovecot did not start, or ``doveadm`` failed; the message ends with the log."""


class Dovecot:
    """``with Dovecot() as server`` (or ``async with``): a running server on
    ``server.host:server.port``; ``server.add_user(name)`` gives a mailbox."""

    def __init__(self, *, tls: bool = False) -> None:
        self._binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self._doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        if not (Path(self._binary).is_file() and Path(self._doveadm).is_file()):
            raise DovecotUnavailable("dovecot is not installed (apt-get install -y "
                                     "dovecot-imapd)")
        self.root = Path(tempfile.mkdtemp(prefix="switchboard-dovecot-"))
        self.host = "127.0.0.1"
        self.port = 0
        # With tls, a self-signed certificate for 127.0.0.1: STARTTLS on ``port`` and
        # implicit TLS on ``tls_port``; clients trust it through ``ssl_context()``.
        self.tls = tls
        self.tls_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._passwords: dict[str, str] = {}
        self._mail_uid, self._mail_gid, self._internal_user = _accounts()

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.stop)

    def start(self) -> None:
        """Start and wait until it greets; synchronous, so a session fixture can call it
        before any event loop exists (``asyncio.to_thread`` it from async code)."""
        try:
            self._prepare()
            for attempt in range(1, _START_ATTEMPTS + 1):
                self.port = _free_port()
                self.tls_port = _free_port() if self.tls else 0
                if self._launch():
                    return
                if attempt == _START_ATTEMPTS or "in use" not in self._log_tail():
                    raise DovecotError(f"dovecot did not start:\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate and reap it (it ends its IMAP processes first), then remove its files."""
        self._terminate()
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, name: str, password: str | None = None) -> ImapEndpoint:
        """A mailbox (with an INBOX) for ``name``; a random password unless one is given."""
        if not _USER.match(name):
            raise ValueError(f"user names here are letters, digits and . _ @ -, not {name!r}")
        password = secrets.token_urlsafe(12) if password is None else password
        scheme = base64.b64encode(password.encode()).decode()  # any character survives
        maildir = self.root / "mail" / name / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        for path in (maildir.parent, maildir, *maildir.iterdir()):
            os.chown(path, self._mail_uid, self._mail_gid)
        entry = self.root / "users" / name
        entry.touch(mode=0o640)  # for Dovecot's auth process (its group), nobody else
        os.chown(entry, -1, self._mail_gid)
        entry.write_text(f"{name}:{{PLAIN.b64}}{scheme}:{self._mail_uid}:{self._mail_gid}::"
                         f"{maildir.parent}::\n")
        self._passwords[name] = password
        return self.endpoint(name)

    def endpoint(self, user: str, password: str | None = None,
                 folder: str = "INBOX") -> ImapEndpoint:
        return ImapEndpoint(host=self.host, port=self.port, security="none", user=user,
                            password=self._password(user, password), folder=folder,
                            timeout_s=10.0)

    def url(self, user: str, password: str | None = None, folder: str = "INBOX") -> str:
        return (f"imap://{quote(user, safe='')}:{quote(self._password(user, password), safe='')}"
                f"@{self.host}:{self.port}/{quote(folder, safe='')}")

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    async def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        output = await self._admin("-f", "tab", "mailbox", "status", "-u", user,
                                   "uidvalidity", folder)
        return int(output.splitlines()[-1].rsplit("\t", 1)[-1])

    async def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Give the folder a new UIDVALIDITY, as a restore or a server migration does, and
        return it."""
        new = (await self.uidvalidity(user, folder)) % 0xFFFFFFFF + 1
        await self._admin("mailbox", "update", "--uid-validity", str(new), "-u", user, folder)
        return new

    async def flags(self, user: str, folder: str = "INBOX") -> dict[int, frozenset[str]]:
        """Each message's flags, read by ``doveadm`` rather than over IMAP (``\\Recent``,
        which any reader changes, left out)."""
        output = await self._admin("-f", "tab", "fetch", "-u", user, "uid flags",
                                   "mailbox", folder, "all")
        found: dict[int, frozenset[str]] = {}
        for row in output.splitlines()[1:]:
            uid, _, flags = row.partition("\t")
            found[int(uid)] = frozenset(flags.split()) - {"\\Recent"}
        return found

    # -- running it ---------------------------------------------------------------------

    def _prepare(self) -> None:
        for sub in ("run", "state", "mail", "users"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # Login processes run as another account and must reach the sockets in run/.
        self.root.chmod(0o755)
        os.chown(self.root / "mail", self._mail_uid, self._mail_gid)
        (self.root / "users").chmod(0o750)
        os.chown(self.root / "users", -1, self._mail_gid)
        if self.tls:
            self._make_certificate()

    def _launch(self) -> bool:
        """Start once on ``self.port``; True when this very server greets there."""
        greeting = f"switchboard-{secrets.token_hex(6)}"
        rootless = os.geteuid() != 0
        self.config.write_text(_CONFIG.format(
            root=self.root, port=self.port, tls_port=self.tls_port, greeting=greeting,
            ssl="yes" if self.tls else "no",
            ssl_files=(f"ssl_cert = <{self.certificate}\nssl_key = <{self.root / 'key.pem'}\n"
                       if self.tls else ""),
            login_user=self._internal_user if rootless else "dovenull",
            internal_user=self._internal_user, internal_group=grp.getgrgid(self._mail_gid).gr_name,
            login_chroot="chroot =\n  " if rootless else "",
            anvil_chroot="chroot =\n  " if rootless else ""))
        with (self.root / "stderr.log").open("ab") as stderr:
            self._process = subprocess.Popen(  # noqa: S603 - our own binary and config
                [self._binary, "-F", "-c", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        deadline_polls = int(START_TIMEOUT_S / 0.05)
        for _ in range(deadline_polls):
            if _greets(self.host, self.port, greeting):
                return True
            try:  # the pause between polls, and the way to notice that it exited
                self._process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            self._process = None
            return False
        tail = self._log_tail()
        self._terminate()
        raise DovecotError(f"dovecot did not answer within {START_TIMEOUT_S:g} s:\n{tail}")

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)

    async def _admin(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            self._doveadm, "-c", str(self.config), *args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(process.communicate(), DOVEADM_TIMEOUT_S)
        except BaseException:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        if process.returncode != 0:
            raise DovecotError(f"doveadm {' '.join(args)} failed ({process.returncode}): "
                               f"{err.decode(errors='replace').strip()}")
        return out.decode()

    def _make_certificate(self) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [shutil.which("openssl") or "/usr/bin/openssl", "req", "-x509", "-newkey",
             "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.root / "key.pem"), "-out", str(self.certificate)],
            check=True, capture_output=True, timeout=60)

    def _password(self, user: str, password: str | None) -> str:
        if password is not None:
            return password
        if user not in self._passwords:
            raise KeyError(f"no user {user!r} on this Dovecot: add_user() first")
        return self._passwords[user]

    def _log_tail(self) -> str:
        text = ""
        for name in ("stderr.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")
        return text[-3000:] or "(nothing logged)"


def _accounts() -> tuple[int, int, str]:
    """Who owns the mail, and who runs Dovecot's unprivileged processes. Dovecot refuses
    mail owned by uid 0 ("invalid UID"), so as root both are its own ``dovecot`` account."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name
    try:
        account = pwd.getpwnam("dovecot")
    except KeyError:
        raise DovecotUnavailable("there is no dovecot account (reinstall dovecot-core)") from None
    return account.pw_uid, account.pw_gid, account.pw_name


def _greets(host: str, port: int, greeting: str) -> bool:
    """Whether ``host:port`` sends *this* server's greeting (another process could hold a
    port we thought free)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as conn:
            conn.settimeout(1.0)
            return greeting.encode() in conn.recv(1024)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
