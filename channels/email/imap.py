"""One IMAP connection to one mailbox folder, on ``aioimaplib``, with the few commands the
poller needs and every failure turned into :class:`ImapError` ("drop it and reconnect").

aioimaplib is untyped and raises its own exceptions, ``asyncio.TimeoutError`` and
``OSError``; this module is the only place that knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import aioimaplib

Security = Literal["none", "starttls", "tls"]
T = TypeVar("T")
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)", re.I)
_FETCH_LINE = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"UID (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")
_NEWS = re.compile(rb"^\d+ (EXISTS|RECENT)", re.I)
_LOGOUT_S = 2.0


class ImapError(Exception):
    """The connection is no good any more: reconnect (after a pause)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapEndpoint:
    host: str
    port: int
    security: Security
    user: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    timeout_s: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> ImapEndpoint:
        """``imap://user:pass@host:port/INBOX`` (``?starttls=1``), ``imaps://`` for TLS."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError("the IMAP URL is not a valid URL") from None
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError(f"an IMAP URL starts with imap:// or imaps://, not "
                             f"{parts.scheme or '(nothing)'}://")
        if not parts.hostname or parts.username is None or parts.password is None:
            raise ValueError("an IMAP URL needs user, password and host: "
                             "imap://user:password@host:port/INBOX")
        security: Security = "tls" if parts.scheme == "imaps" else "none"
        if parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes", "required"):
            if security == "tls":
                raise ValueError("starttls applies to imap://, not imaps://")
            security = "starttls"
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        return cls(host=parts.hostname, port=port or (993 if security == "tls" else 143),
                   security=security, user=unquote(parts.username),
                   password=unquote(parts.password), folder=folder)


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    raw: bytes = field(repr=False)


class MailboxSession:
    """``async with MailboxSession(endpoint) as session``: logged in, folder selected."""

    def __init__(self, endpoint: ImapEndpoint, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._endpoint = endpoint
        self._ssl = ssl_context
        self._client: Any = None
        self._uidvalidity = 0
        self._capabilities: frozenset[str] = frozenset()
        # Set by what the server says outside any command: new mail, or the end.
        self._news = asyncio.Event()
        self._lost = asyncio.Event()

    @property
    def uidvalidity(self) -> int:
        return self._uidvalidity

    @property
    def supports_idle(self) -> bool:
        return "IDLE" in self._capabilities

    @property
    def supports_move(self) -> bool:
        return "MOVE" in self._capabilities

    async def __aenter__(self) -> Self:
        endpoint = self._endpoint
        try:
            # IMAP4 (not IMAP4_SSL, which drops conn_lost_cb) with a context is implicit TLS.
            self._client = aioimaplib.IMAP4(
                host=endpoint.host, port=endpoint.port, timeout=endpoint.timeout_s,
                conn_lost_cb=self._connection_lost,
                ssl_context=(self._ssl or ssl.create_default_context())
                if endpoint.security == "tls" else None)
            self._watch_unsolicited(self._client.protocol)
            await self._client.wait_hello_from_server()
            if endpoint.security == "starttls":
                await self._starttls()
            login = await self._client.login(endpoint.user, endpoint.password)
            if login.result != "OK":
                raise ImapError(f"login as {endpoint.user!r} refused")
            await self._select(endpoint.folder)
        except BaseException as err:
            await self._close()
            if isinstance(err, ImapError | asyncio.CancelledError):
                raise
            raise _error("connecting", err) from None
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._close()

    def _connection_lost(self, exc: Exception | None) -> None:
        self._lost.set()

    def _watch_unsolicited(self, protocol: Any) -> None:
        """aioimaplib drops an untagged EXISTS that arrives while no command is pending
        (mail delivered between our SEARCH and our IDLE); remember it instead, or the IDLE
        that follows would wait for news it has already missed."""
        handle = protocol._untagged_response

        def watched(line: bytes) -> Any:
            command = handle(line)
            if command is None and _NEWS.match(line.replace(b"* ", b"", 1)):
                self._news.set()
            return command

        protocol._untagged_response = watched

    async def _starttls(self) -> None:
        # aioimaplib has no STARTTLS: issue it, then upgrade the transport underneath.
        protocol = self._client.protocol
        response = await asyncio.wait_for(protocol.execute(aioimaplib.Command(
            "STARTTLS", protocol.new_tag(), loop=protocol.loop)), self._endpoint.timeout_s)
        if response.result != "OK":
            raise ImapError("the server refused STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await loop.start_tls(
            protocol.transport, protocol, self._ssl or ssl.create_default_context(),
            server_hostname=self._endpoint.host)
        await asyncio.wait_for(protocol.capability(), self._endpoint.timeout_s)

    async def _select(self, folder: str) -> None:
        response = await self._client.select(_quote(folder))
        if response.result != "OK":
            raise ImapError(f"folder {folder!r} cannot be selected")
        for line in response.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                self._uidvalidity = int(found.group(1))
        if not self._uidvalidity:
            raise ImapError("the server reported no UIDVALIDITY")
        self._capabilities = frozenset(str(c).upper()
                                       for c in self._client.protocol.capabilities)

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            if client.has_pending_idle():
                client.idle_done()
            if client.get_state() in ("AUTH", "SELECTED", "NONAUTH"):
                await asyncio.wait_for(client.logout(), _LOGOUT_S)
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()
        for task in [*client.tasks, *client.protocol.tasks, client._client_task]:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _run(self, what: str, command: Any) -> Any:
        """Await one aioimaplib call; anything but OK means the connection is suspect."""
        if self._client is None or self._lost.is_set():
            if asyncio.iscoroutine(command):
                command.close()
            raise ImapError("the connection is closed")
        try:
            response = await asyncio.wait_for(command, self._endpoint.timeout_s)
        except (aioimaplib.AioImapException, OSError, TimeoutError) as err:
            raise _error(what, err) from None
        if response.result != "OK":
            raise ImapError(f"{what}: the server answered {response.result}")
        return response

    async def uids_after(self, last_uid: int, *, limit: int) -> list[int]:
        response = await self._run("searching", self._client.uid_search(
            f"UID {last_uid + 1}:*", charset=None))
        uids: set[int] = set()
        # aioimaplib strips the "* SEARCH" prefix: the untagged lines are bare numbers, and
        # the last line is the completion text.
        for line in response.lines[:-1]:
            tokens = bytes(line).split()
            if tokens and tokens[0].upper() == b"SEARCH":
                tokens = tokens[1:]
            if all(t.isdigit() for t in tokens):
                uids.update(int(t) for t in tokens)
        # "n:*" always includes the highest UID, even when it is below n.
        return sorted(u for u in uids if u > last_uid)[:limit]

    async def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        if not uids:
            return []
        response = await self._run("fetching", self._client.uid(
            "fetch", _uid_set(uids), "(UID BODY.PEEK[])"))
        return _fetched(response.lines)

    async def mark_seen(self, uids: Sequence[int]) -> None:
        if uids:
            await self._run("marking seen", self._client.uid(
                "store", _uid_set(uids), "+FLAGS.SILENT", r"(\Seen)"))

    async def move(self, uids: Sequence[int], folder: str) -> None:
        if not uids:
            return
        uid_set = _uid_set(uids)
        if self.supports_move:
            await self._run("moving", self._client.uid("move", uid_set, _quote(folder)))
            return
        await self._run("copying", self._client.uid("copy", uid_set, _quote(folder)))
        await self._run("flagging deleted", self._client.uid(
            "store", uid_set, "+FLAGS.SILENT", r"(\Deleted)"))
        if "UIDPLUS" in self._capabilities:
            await self._run("expunging", self._client.uid("expunge", uid_set))
        else:
            await self._run("expunging", self._client.expunge())

    async def wait_for_new(self, timeout_s: float) -> bool:
        """True when the server announced new mail (IDLE), or the poll interval passed.
        Raises :class:`ImapError` as soon as the connection is lost."""
        if self._news.is_set():
            self._news.clear()
            return True
        if not self.supports_idle:
            await self._until_lost(asyncio.sleep(timeout_s))
            return True
        client = self._client
        try:
            idle = await client.idle_start(timeout=timeout_s)
            try:
                # Anything that arrived before IDLE was acknowledged was caught above.
                news = self._news.is_set()
                while not news:
                    pushed = await self._until_lost(client.wait_server_push(timeout_s + 5))
                    if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                        break
                    news = any(_NEWS.match(bytes(line)) for line in pushed)
            finally:
                if not self._lost.is_set():
                    client.idle_done()
                    await asyncio.wait_for(idle, self._endpoint.timeout_s)
                else:
                    idle.cancel()
        except (aioimaplib.AioImapException, OSError, TimeoutError) as err:
            raise _error("waiting for mail", err) from None
        self._news.clear()
        return news

    async def _until_lost(self, waiting: Awaitable[T]) -> T:
        task = asyncio.ensure_future(waiting)
        lost = asyncio.create_task(self._lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if not task.done() or task.cancelled():
            raise ImapError("the server closed the connection")
        return task.result()

    async def append(self, raw: bytes, *, folder: str | None = None) -> None:
        await self._run("appending", self._client.append(
            raw, mailbox=_quote(folder or self._endpoint.folder)))

    async def create_folder(self, folder: str) -> None:
        await self._run("creating a folder", self._client.create(_quote(folder)))


def _fetched(lines: Sequence[Any]) -> list[FetchedMessage]:
    """Pair each ``n FETCH (... BODY[] {size}`` line with the literal that follows it."""
    found: list[FetchedMessage] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if isinstance(line, bytes) and _FETCH_LINE.match(line) and _LITERAL.search(line):
            literal = lines[index + 1] if index + 1 < len(lines) else None
            uid = _UID.search(line)
            if uid is None and index + 2 < len(lines) and isinstance(lines[index + 2], bytes):
                uid = _UID.search(lines[index + 2])  # "UID n" after the literal
            if isinstance(literal, bytes | bytearray) and uid is not None:
                found.append(FetchedMessage(uid=int(uid.group(1)), raw=bytes(literal)))
            index += 2
            continue
        index += 1
    return found


def _uid_set(uids: Sequence[int]) -> str:
    return ",".join(str(u) for u in sorted(set(uids)))


def _quote(folder: str) -> str:
    escaped = folder.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _error(what: str, err: BaseException) -> ImapError:
    # aioimaplib never puts the password in an exception, but keep the message short.
    detail = str(err).splitlines()[0][:200] if str(err) else ""
    return ImapError(f"{what}: {type(err).__name__}{': ' + detail if detail else ''}")
