"""A real SMTP server (aiosmtpd) in the test's own event loop, keeping what it receives.

No ``Controller`` thread: the server is ``aiosmtpd.smtp.SMTP`` on ``loop.create_server``, so
a test awaits arrivals with :meth:`SmtpSink.wait_for` and everything stops with the loop.
It can refuse the next deliveries (:meth:`SmtpSink.fail_next`), offer STARTTLS or speak
implicit TLS with a given server context, and, given credentials, require AUTH, which it
also takes over plain text (RFC 4954 would want TLS; a test sink on 127.0.0.1 is the one
place where that is fine).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

WAIT_S = 10.0
Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes  # the DATA as received, dot-unstuffed, CR LF line ends
    mail_options: list[str] = field(default_factory=list)
    authenticated_as: str | None = None
    tls: bool = False  # the message came over TLS (STARTTLS or implicit)

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header_lines(self) -> list[str]:
        """The header block's physical lines as sent (unfolded lines start with a name)."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        return head.split("\r\n")

    def header_names(self) -> list[str]:
        """Lower-case names of the top-level header fields, in order, as sent."""
        return [line.split(":", 1)[0].strip().lower() for line in self.header_lines()
                if line and not line[0].isspace()]


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    credentials: Mapping[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)  # every AUTH attempt's user name
    _refusals: dict[Stage, list[str]] = field(
        default_factory=lambda: {"MAIL": [], "RCPT": [], "DATA": []})
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _open: set[SMTP] = field(default_factory=set)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def fail_next(self, count: int, reply: str, *, at: Stage = "DATA") -> None:
        """Answer the next ``count`` commands of stage ``at`` with ``reply``, e.g.
        ``"451 4.3.0 try again later"`` or ``"550 5.1.1 no such user"``. At DATA (and MAIL)
        that is the next ``count`` messages; at RCPT, the next ``count`` recipients."""
        self._refusals[at].extend([reply] * count)

    async def wait_for(self, count: int, timeout_s: float = WAIT_S) -> list[Received]:
        """The first ``count`` messages, once that many have arrived."""
        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages[:count]

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def wait_idle(self, timeout_s: float = WAIT_S) -> None:
        """Until no client is connected (each one has closed or been closed)."""
        async with asyncio.timeout(timeout_s):
            await self._idle.wait()

    def connected(self, session: SMTP) -> None:
        self._open.add(session)
        self._idle.clear()

    def disconnected(self, session: SMTP) -> None:
        self._open.discard(session)
        if not self._open:
            self._idle.set()

    # --- aiosmtpd handler hooks ---------------------------------------------------------

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self._refusals["MAIL"]:
            return self._refusals["MAIL"].pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self._refusals["RCPT"]:
            return self._refusals["RCPT"].pop(0)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._refusals["DATA"]:
            return self._refusals["DATA"].pop(0)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        transport = server.transport
        received = Received(
            mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos),
            raw=envelope.original_content or b"", mail_options=list(envelope.mail_options),
            authenticated_as=login.decode() if login is not None else None,
            tls=transport is not None and transport.get_extra_info("sslcontext") is not None)
        async with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()
        return "250 2.0.0 Ok: queued"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                     mechanism: str, auth_data: Any) -> AuthResult:
        # handled=False: aiosmtpd then answers a failure with 535 itself.
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append(auth_data.login.decode())
        ok = self.credentials.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class _Session(SMTP):
    """One client connection; tells the sink when it opens and closes."""

    event_handler: SmtpSink

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.event_handler.connected(self)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.event_handler.disconnected(self)


@asynccontextmanager
async def smtp_sink(*, credentials: Mapping[str, str] | None = None,
                    tls_context: ssl.SSLContext | None = None,
                    implicit_tls: bool = False) -> AsyncIterator[SmtpSink]:
    """A running sink on 127.0.0.1, a free port; with ``credentials`` (user -> password)
    MAIL is refused until the client has logged in with one of them. ``tls_context`` (a
    server context) offers STARTTLS, or with ``implicit_tls`` wraps the whole connection."""
    sink = SmtpSink(credentials=dict(credentials or {}))
    sink._idle.set()
    loop = asyncio.get_running_loop()
    sessions: list[_Session] = []

    def protocol() -> _Session:
        session = _Session(sink, loop=loop, hostname="sink.test", enable_SMTPUTF8=True,
                           auth_require_tls=False,
                           tls_context=None if implicit_tls else tls_context,
                           authenticator=sink.authenticate if sink.credentials else None)
        sessions.append(session)
        return session

    server = await loop.create_server(protocol, sink.host, 0,
                                      ssl=tls_context if implicit_tls else None)
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        # A client that is still connected keeps its session task alive: end both, so
        # nothing outlives the test's loop.
        for session in sessions:
            if session.transport is not None:
                session.transport.close()
        tasks = [s._handler_coroutine for s in sessions if s._handler_coroutine is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.wait_closed()
