"""A real SMTP server (aiosmtpd) in the test's own event loop, keeping what it receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

WAIT_S = 10.0


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header_lines(self) -> list[str]:
        """The header block's physical lines as sent (unfolded lines start with a name)."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        return head.split("\r\n")


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    _refusals: list[str] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?starttls=none"

    def fail_next(self, count: int, reply: str) -> None:
        """Answer the next ``count`` messages with ``reply`` (e.g. "451 4.3.0 later")."""
        self._refusals.extend([reply] * count)

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        if self._refusals:
            return self._refusals.pop(0)
        content = envelope.original_content or b""
        async with self._arrived:
            self.messages.append(Received(mail_from=envelope.mail_from or "",
                                          rcpt_tos=list(envelope.rcpt_tos), raw=content))
            self._arrived.notify_all()
        return "250 2.0.0 Ok: queued"

    async def wait_for(self, count: int, timeout_s: float = WAIT_S) -> list[Received]:
        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages[:count]


@asynccontextmanager
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(sink, loop=loop, hostname="sink.test")

    server = await loop.create_server(protocol, sink.host, 0)
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()
