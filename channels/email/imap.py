"""One IMAP connection to one mailbox folder, on ``aioimaplib``: the few commands the poller
needs, each with a deadline, and every failure turned into an error that says what to do.

    ImapError          drop this connection and reconnect after a pause: the server said
    │                  BYE or NO/BAD to a command we need, the connection dropped or reset,
    │                  a command got no answer in time, TLS failed
    └── LoginRefused   the same, but only new credentials will help: worth an alert

Messages are short and never hold the password.

aioimaplib is untyped, raises its own exceptions, ``TimeoutError`` and ``OSError``, and
never fails a command whose connection dropped (it waits for an answer that cannot come, and
queues every later command behind it). So each step here races the connection's end and a
deadline, and a connection that timed out or was cancelled mid-command is abandoned. This
module is the only place that knows any of this.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import aioimaplib

Security = Literal["none", "starttls", "tls"]
T = TypeVar("T")

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.I)
_FETCH_LINE = re.compile(rb"^\d+ FETCH \(", re.I)
_UID = re.compile(rb"\bUID (\d+)", re.I)
_LITERAL = re.compile(rb"\{(\d+)\}$")
_NEWS = re.compile(rb"^(?:\* )?\d+ (?:EXISTS|RECENT)\b", re.I)
_FAILURES = (aioimaplib.AioImapException, OSError, TimeoutError, ValueError)
_GOODBYE_S = 2.0  # LOGOUT, or DONE after a cancelled IDLE: a courtesy, not worth a long wait
_STARTTLS = {"1": True, "true": True, "yes": True, "required": True,
             "0": False, "false": False, "no": False}


class ImapError(Exception):
    """The connection is no good any more: reconnect (after a pause)."""


class LoginRefused(ImapError):
    """The server refused the user name or password."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapEndpoint:
    host: str
    port: int
    security: Security
    user: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("an IMAP endpoint needs a host")
        if not 0 < self.port < 65536:
            raise ValueError(f"IMAP port {self.port} is not between 1 and 65535")
        if self.security not in ("none", "starttls", "tls"):
            raise ValueError(f"IMAP security is none, starttls or tls, not {self.security!r}")
        if not self.timeout_s > 0:
            raise ValueError("an IMAP timeout must be positive")

    @classmethod
    def from_url(cls, url: str) -> ImapEndpoint:
        """``imap://user:pass@host:port/INBOX`` (``?starttls=1``), ``imaps://`` for TLS;
        user, password and folder percent-encoded."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError("the IMAP URL is not a valid URL (is the port a number from 1 "
                             "to 65535, and are @ : / # in the password percent-encoded?)"
                             ) from None
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError(f"an IMAP URL starts with imap:// or imaps://, not "
                             f"{parts.scheme or '(nothing)'}://")
        if not parts.hostname or not parts.username or parts.password is None:
            raise ValueError("an IMAP URL needs user, password and host: "
                             "imap://user:password@host:port/INBOX")
        if parts.fragment:
            raise ValueError("an IMAP URL has no #fragment (percent-encode # as %23)")
        query = parse_qs(parts.query, keep_blank_values=True)
        if set(query) - {"starttls"} or len(query.get("starttls", [])) > 1:
            raise ValueError("the only option an IMAP URL takes is ?starttls=1")
        starttls = _STARTTLS.get(query.get("starttls", ["0"])[0].lower())
        if starttls is None:
            raise ValueError("starttls in an IMAP URL is 1 or 0")
        if starttls and parts.scheme == "imaps":
            raise ValueError("starttls applies to imap://, not imaps://")
        security: Security = ("tls" if parts.scheme == "imaps"
                              else "starttls" if starttls else "none")
        if port == 0:
            raise ValueError("IMAP port 0 is not a port")
        return cls(host=parts.hostname, port=port or (993 if security == "tls" else 143),
                   security=security, user=unquote(parts.username),
                   password=unquote(parts.password),
                   folder=unquote(parts.path.lstrip("/")) or "INBOX")


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    raw: bytes = field(repr=False)


class MailboxSession:
    """``async with MailboxSession(endpoint) as session``: logged in, folder selected.

    One connection, used by one task at a time (IDLE cannot share a connection anyway).
    """

    def __init__(self, endpoint: ImapEndpoint, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._endpoint = endpoint
        self._ssl = ssl_context
        self._client: Any = None
        self._uidvalidity = 0
        self._capabilities: frozenset[str] = frozenset()
        # What the server said outside any command: new mail, or the end of the connection.
        self._news = asyncio.Event()
        self._lost = asyncio.Event()  # gone, or given up on: no more commands
        self._gone = asyncio.Event()  # the transport has really closed its socket

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
        self._lost.clear()
        self._gone.clear()
        self._news.clear()
        try:
            # IMAP4 with a context is implicit TLS; IMAP4_SSL would drop conn_lost_cb.
            self._client = aioimaplib.IMAP4(
                host=endpoint.host, port=endpoint.port, timeout=endpoint.timeout_s,
                conn_lost_cb=self._connection_lost,
                ssl_context=self._tls_context() if endpoint.security == "tls" else None)
            self._watch_unsolicited(self._client.protocol)
            await self._step(f"connecting to {endpoint.host}:{endpoint.port}",
                             self._client.wait_hello_from_server())
            if endpoint.security == "starttls":
                await self._starttls()
            await self._login()
            # Asked after LOGIN: servers advertise more then (and aioimaplib mis-parses the
            # capabilities a LOGIN reply carries in its response code).
            await self._step("asking for capabilities", self._client.protocol.capability())
            self._capabilities = frozenset(
                str(c).strip("[]").upper() for c in self._client.protocol.capabilities)
            await self._select(endpoint.folder)
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._close()

    async def uids_after(self, last_uid: int, *, limit: int) -> list[int]:
        """UIDs above ``last_uid``, lowest first, at most ``limit``."""
        response = await self._command("searching", lambda c: c.uid_search(
            f"UID {max(last_uid, 0) + 1}:*", charset=None))
        uids: set[int] = set()
        # aioimaplib strips "* SEARCH": untagged lines are bare numbers; the last line is
        # the completion text.
        for line in response.lines[:-1]:
            tokens = bytes(line).split()
            if tokens and tokens[0].upper() == b"SEARCH":
                tokens = tokens[1:]
            if all(t.isdigit() for t in tokens):
                uids.update(int(t) for t in tokens)
        # RFC 3501 6.4.8: "n:*" always matches the highest UID, even when it is below n.
        return sorted(u for u in uids if u > last_uid)[:max(limit, 0)]

    async def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        """The messages as stored, in one round trip, without setting \\Seen; messages that
        are gone are left out."""
        if not uids:
            return []
        client = self._usable()
        response = await self._step("fetching", client.uid(
            "fetch", _uid_set(uids), "(UID BODY.PEEK[])"), command=True)
        # Dovecot answers NO [EXPUNGEISSUED] when another client expunged some of them.
        if response.result != "OK" and b"EXPUNGEISSUED" not in _last(response.lines):
            raise self._refused("fetching", response)
        return _fetched(response.lines)

    async def mark_seen(self, uids: Sequence[int]) -> None:
        if uids:
            await self._command("marking seen", lambda c: c.uid(
                "store", _uid_set(uids), "+FLAGS.SILENT", r"(\Seen)"))

    async def move(self, uids: Sequence[int], folder: str) -> None:
        if not uids:
            return
        uid_set, target = _uid_set(uids), _mailbox(folder)
        if self.supports_move:  # RFC 6851: atomic
            await self._command("moving", lambda c: c.uid("move", uid_set, target))
            return
        await self._command("copying", lambda c: c.uid("copy", uid_set, target))
        await self._command("flagging deleted", lambda c: c.uid(
            "store", uid_set, "+FLAGS.SILENT", r"(\Deleted)"))
        if "UIDPLUS" in self._capabilities:  # RFC 4315: expunge only these
            await self._command("expunging", lambda c: c.uid("expunge", uid_set))
        else:  # also expunges what other clients flagged \Deleted; nothing better exists
            await self._command("expunging", lambda c: c.expunge())

    async def append(self, raw: bytes, *, folder: str | None = None) -> None:
        target = _mailbox(folder or self._endpoint.folder)
        await self._command("appending", lambda c: c.append(raw, mailbox=target))

    async def create_folder(self, folder: str) -> None:
        target = _mailbox(folder)
        await self._command("creating a folder", lambda c: c.create(target))

    async def wait_for_new(self, timeout_s: float) -> bool:
        """With IDLE: True when the server announced new mail, False when ``timeout_s``
        passed first. Without IDLE: True after ``timeout_s`` (search again). Raises
        :class:`ImapError` as soon as the connection is lost.

        Cancelling it ends the IDLE politely, or abandons the connection if the server does
        not confirm within a moment."""
        client = self._usable()
        if self._news.is_set():
            self._news.clear()
            return True
        if not self.supports_idle:
            await self._step("waiting for mail", asyncio.sleep(timeout_s), command=False)
            return True
        return await self._idle(client, timeout_s)

    # -- the conversation ---------------------------------------------------------------

    async def _idle(self, client: Any, timeout_s: float) -> bool:
        queue: asyncio.Queue[Any] = client.protocol.idle_queue
        while not queue.empty():  # pushes from the last IDLE: the caller has searched since
            queue.get_nowait()
        idle: asyncio.Future[Any] = await self._step(
            "starting IDLE", client.idle_start(timeout=timeout_s))
        ended = False
        try:
            # Mail that came before the server confirmed IDLE was caught outside it.
            news = self._news.is_set() or await self._pushed(queue, idle, timeout_s)
            if client.has_pending_idle():
                client.idle_done()
            response = await self._step("ending IDLE", idle)
            ended = True
        finally:
            if not ended:
                await self._abort_idle(client, idle)
        if response.result != "OK":
            raise self._refused("ending IDLE", response)
        self._news.clear()
        return news

    async def _pushed(self, queue: asyncio.Queue[Any], idle: asyncio.Future[Any],
                      timeout_s: float) -> bool:
        """Wait for EXISTS or RECENT during IDLE; False when the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (remaining := deadline - loop.time()) > 0:
            get = asyncio.create_task(queue.get(), name="imap-idle-push")
            lost = asyncio.create_task(self._lost.wait(), name="imap-idle-lost")
            try:
                await asyncio.wait({get, lost, idle}, timeout=remaining,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                await _cancelled(get, lost)
            if self._lost.is_set():
                raise ImapError("waiting for mail: the server closed the connection")
            if idle.done():  # the server ended IDLE itself: look again, to be safe
                return True
            if get.done() and not get.cancelled():
                lines = get.result()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return False
                if any(_NEWS.match(bytes(line)) for line in lines):
                    return True
        return False

    async def _abort_idle(self, client: Any, idle: asyncio.Future[Any]) -> None:
        """After a cancellation or failure mid-IDLE: send DONE and give the server a moment
        to confirm, so the connection stays usable; otherwise give it up."""
        if not self._lost.is_set() and not idle.done() and client.has_pending_idle():
            with contextlib.suppress(Exception):
                client.idle_done()
            await asyncio.wait({idle}, timeout=_GOODBYE_S)
        if not idle.done() or idle.cancelled() or idle.exception() is not None:
            self._abandon()

    async def _starttls(self) -> None:
        # aioimaplib has no STARTTLS (RFC 3501 6.2.1): issue it, then upgrade the transport.
        protocol = self._client.protocol
        response = await self._step("starting TLS", protocol.execute(aioimaplib.Command(
            "STARTTLS", protocol.new_tag(), loop=protocol.loop)))
        if response.result != "OK":
            raise self._refused("starting TLS", response)
        protocol.transport = await self._step("starting TLS", asyncio.get_running_loop(
            ).start_tls(protocol.transport, protocol, self._tls_context(),
                        server_hostname=self._endpoint.host))

    async def _login(self) -> None:
        endpoint = self._endpoint
        # Unchained: aioimaplib's LOGIN command, in any exception about it, holds the password.
        response = await self._step("logging in", self._client.login(
            endpoint.user, endpoint.password), chain=False)
        if response.result != "OK":
            raise LoginRefused(self._scrub(
                f"the server refused the login as {endpoint.user!r}: {_text(response)}"))

    async def _select(self, folder: str) -> None:
        target = _mailbox(folder)
        response = await self._command(f"selecting {folder!r}", lambda c: c.select(target))
        for line in response.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                self._uidvalidity = int(found.group(1))
        if not self._uidvalidity:
            raise ImapError(f"selecting {folder!r}: the server reported no UIDVALIDITY")

    async def _command(self, what: str, call: Callable[[Any], Awaitable[Any]]) -> Any:
        """One command that must be answered OK."""
        response = await self._step(what, call(self._usable()))
        if response.result != "OK":
            raise self._refused(what, response)
        return response

    async def _step(self, what: str, awaitable: Awaitable[T], *, command: bool = True,
                    chain: bool = True) -> T:
        """Await ``awaitable`` until it is done, the connection drops, or (for a command)
        the endpoint's timeout passes. A command left without its answer leaves aioimaplib
        stuck, so then the connection is abandoned."""
        step = awaitable if isinstance(awaitable, asyncio.Future) else asyncio.create_task(
            _coroutine(awaitable), name=f"imap-{what}")
        lost = asyncio.create_task(self._lost.wait(), name="imap-lost")
        try:
            await asyncio.wait({step, lost}, return_when=asyncio.FIRST_COMPLETED,
                               timeout=self._endpoint.timeout_s if command else None)
        except asyncio.CancelledError:
            if command:
                self._abandon()
            raise
        finally:
            await _cancelled(step, lost)
        if step.done() and not step.cancelled():
            try:
                return step.result()
            except ImapError:
                raise
            except _FAILURES as err:
                self._abandon()
                failure = ImapError(self._scrub(f"{what}: {_describe(err)}"))
                raise failure from (err if chain else None)
        closed = self._lost.is_set()
        self._abandon()
        if closed:
            raise ImapError(f"{what}: the server closed the connection")
        raise ImapError(f"{what}: no answer within {self._endpoint.timeout_s:g} s")

    # -- the connection -----------------------------------------------------------------

    def _usable(self) -> Any:
        if self._client is None or self._lost.is_set():
            raise ImapError("the IMAP connection is closed")
        return self._client

    def _connection_lost(self, exc: Exception | None) -> None:
        self._lost.set()
        self._gone.set()

    def _abandon(self) -> None:
        self._lost.set()
        transport = getattr(getattr(self._client, "protocol", None), "transport", None)
        if transport is not None:
            transport.abort()

    def _watch_unsolicited(self, protocol: Any) -> None:
        """aioimaplib drops an untagged EXISTS that arrives while no command is pending
        (mail delivered between our SEARCH and our IDLE); remember it instead, or the IDLE
        that follows would wait for news it has already missed."""
        handle = protocol._untagged_response

        def watched(line: bytes) -> Any:
            command = handle(line)
            if command is None and _NEWS.match(line):
                self._news.set()
            return command

        protocol._untagged_response = watched

    def _tls_context(self) -> ssl.SSLContext:
        return self._ssl or ssl.create_default_context()

    async def _close(self) -> None:
        client = self._client
        if client is None:
            return
        protocol = client.protocol
        try:
            if not self._lost.is_set() and client.get_state() in ("NONAUTH", "AUTH",
                                                                  "SELECTED"):
                with contextlib.suppress(ImapError):
                    await self._step("logging out", asyncio.wait_for(
                        client.logout(), _GOODBYE_S))
        finally:
            self._lost.set()
            await _release(client)
            if protocol.transport is not None and not self._gone.is_set():
                protocol.transport.abort()
                # The socket is closed in connection_lost, on a later turn of the loop.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._gone.wait(), _GOODBYE_S)
            self._client = None

    def _refused(self, what: str, response: Any) -> ImapError:
        return ImapError(self._scrub(
            f"{what}: the server answered {response.result} {_text(response)}".rstrip()))

    def _scrub(self, message: str) -> str:
        password = self._endpoint.password
        return message.replace(password, "***") if password else message


async def _release(client: Any) -> None:
    """End what aioimaplib started: its commands wait forever for a closed connection, and
    its tasks and IDLE timer outlive it."""
    protocol = client.protocol
    for command in [*protocol.pending_async_commands.values(), protocol.pending_sync_command]:
        if command is not None:
            command.close(b"connection closed", "BYE")
    if client._idle_waiter is not None:
        client._idle_waiter.cancel()
    await _cancelled(*client.tasks, *protocol.tasks, client._client_task)


async def _cancelled(*tasks: asyncio.Future[Any]) -> None:
    """Cancel and wait for ``tasks``, retrieving their outcomes so none is reported lost."""
    pending = {t for t in tasks if not t.done()}
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()


async def _coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _fetched(lines: Sequence[Any]) -> list[FetchedMessage]:
    """Pair each ``n FETCH (... BODY[] {size}`` line with the literal that follows it; the
    UID comes before the literal or in the line after it."""
    found: dict[int, FetchedMessage] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if isinstance(line, bytes) and _FETCH_LINE.match(line) and _LITERAL.search(line):
            literal = lines[index + 1] if index + 1 < len(lines) else None
            uid = _UID.search(line)
            after = lines[index + 2] if index + 2 < len(lines) else None
            if uid is None and isinstance(after, bytes):
                uid = _UID.search(after)
            if isinstance(literal, bytes | bytearray) and uid is not None:
                found[int(uid.group(1))] = FetchedMessage(uid=int(uid.group(1)),
                                                          raw=bytes(literal))
            index += 2
            continue
        index += 1
    return [found[uid] for uid in sorted(found)]


def _uid_set(uids: Sequence[int]) -> str:
    """``1:3,7``: runs as ranges keep a large batch's command line short."""
    ranges: list[list[int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    return ",".join(f"{a}:{b}" if a != b else str(a) for a, b in ranges)


def _mailbox(folder: str) -> str:
    """A quoted mailbox name, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            packed = base64.b64encode("".join(run).encode("utf-16-be")).rstrip(b"=")
            encoded.append("&" + packed.replace(b"/", b",").decode() + "-")
            run.clear()

    for char in folder:
        if " " <= char <= "~":
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    name = "".join(encoded).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}"'


def _last(lines: Sequence[Any]) -> bytes:
    return bytes(lines[-1]) if lines else b""


def _text(response: Any) -> str:
    return _last(response.lines).decode(errors="replace")[:200]


def _describe(err: BaseException) -> str:
    detail = str(err).splitlines()[0][:200] if str(err) else ""
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__

